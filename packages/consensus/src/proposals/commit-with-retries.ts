import type { AbortOptions } from '../consensus-api.ts'
import { NoLeaderError, OutcomeUnknownError } from '../errors.ts'
import type { RpcRequest } from '../rpc/rpc-protocol.ts'
import { abortSignal, sleep } from '../util/abort.ts'

/** Errors after which the same operation may simply be sent again (to the new leader). */
const retryableNames = new Set([
  'NotLeaderError',
  'NoLeaderError',
  'ProposalDroppedError',
  'ProposalLostError',
  'ConfigurationChangeInProgressError',
  'LeadershipTransferError',
  // The leader was shutting down and refused before doing anything.
  'ConsensusShutdownError',
  // Another peer is joining; the leader admits one at a time.
  'JoinInProgressError',
])

/** Errors that are the leader's final answer: retrying cannot change it. */
const finalNames = new Set([
  'OperationRejectedError',
  'LastPeerError',
  'ConfigurationChangeError',
  'JoinNotAllowedError',
])

/** What committing through the leader needs from the consensus component. */
export interface CommitHost {
  readonly peerId: string
  readonly commitRetries: number
  readonly commitRetryDelay: number
  readonly networkTimeout: number
  readonly waitForLeaderTimeout: number
  /** The leader, waiting for one within the signal's bounds. */
  leader(options: AbortOptions): Promise<string>
  /** The leader known right now (no waiting), null if none. */
  knownLeader(): string | null
  isShutDown(): boolean
  /** Runs `request` on this peer, which believes it is the leader. */
  execute(request: RpcRequest, signal: AbortSignal): Promise<number>
  /** Sends `request` to `leader`. */
  forward(leader: string, request: RpcRequest, signal: AbortSignal): Promise<number>
}

/**
 * Commits `request` through the leader, retrying `commit_retries` times after
 * `commit_retry_delay`. Operations carry request ids, so a retry is never applied twice.
 * Returns the log index at which it was applied.
 */
export async function commitWithRetries(
  host: CommitHost,
  request: RpcRequest,
  options?: AbortOptions,
): Promise<number> {
  const attempts = host.commitRetries + 1
  // Waiting for a new leader does not use up retries, but is bounded by this deadline.
  const deadline = Date.now() + host.waitForLeaderTimeout + host.networkTimeout
  let lastError: Error | undefined
  let maybeApplied = false
  let attempt = 0
  while (attempt < attempts) {
    const signal = abortSignal(options, host.networkTimeout + host.waitForLeaderTimeout)
    let leader: string | undefined
    try {
      leader = await host.leader({ signal })
      return leader === host.peerId
        ? await host.execute(request, signal)
        : await host.forward(leader, request, signal)
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      if (options?.signal?.aborted) {
        throw new OutcomeUnknownError(
          'the operation was aborted by the caller; it may or may not have been applied',
        )
      }
      if (finalNames.has(failure.name)) throw failure
      lastError = failure
      const leaderGone = failure.name === 'NotSentError' || failure.name === 'NotLeaderError'
      if (leaderGone && leader !== undefined && Date.now() < deadline) {
        // The peer we took for the leader is not (any more): wait for the cluster to elect
        // another, as IPFS Cluster waits up to wait_for_leader_timeout.
        await waitForLeaderChange(host, leader, deadline, options?.signal)
        continue
      }
      if (!leaderGone && !retryableNames.has(failure.name)) {
        // A timeout, a broken stream or a stopped node after the request left: it may have
        // been applied. Retrying is still safe, since the request id makes it at most once.
        maybeApplied = true
      }
      attempt++
      if (attempt < attempts) await sleep(host.commitRetryDelay, options?.signal)
    }
  }
  if (maybeApplied) {
    throw new OutcomeUnknownError(
      `the operation got no answer after ${attempts} attempt(s) (${lastError?.message ?? 'no answer'}); it may or may not have been applied: check the state before retrying`,
    )
  }
  if (lastError?.name === 'NotSentError' || lastError?.name === 'NotLeaderError') {
    throw new NoLeaderError(
      `no reachable leader within wait_for_leader_timeout (${lastError.message}); check that a majority of the peers are running and can reach each other`,
    )
  }
  throw lastError ?? new NoLeaderError('the operation could not reach a leader')
}

/** Resolves once this peer knows a leader other than `previous`, or at `deadline`. */
async function waitForLeaderChange(
  host: CommitHost,
  previous: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<void> {
  while (Date.now() < deadline && !host.isShutDown()) {
    const leader = host.knownLeader()
    if (leader !== null && leader !== previous) return
    await sleep(25, signal)
  }
}
