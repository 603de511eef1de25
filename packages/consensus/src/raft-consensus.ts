import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import {
  type Configuration,
  ConfigurationChangeError,
  type Logger,
  RaftNode,
  silentLogger,
  TypedEventTarget,
} from '@pinraft/raft-core'
import { openRaftStorage, type RaftStorage } from '@pinraft/raft-level'
import type { RaftTransport } from '@pinraft/raft-libp2p'
import {
  type ApplyResult,
  cidKey,
  createPinsetState,
  encodeOperation,
  type Pin,
  type PinInput,
  type PinOperation,
  type PinsetState,
  parseCid,
  type UnpinOperation,
  validatePin,
} from '@pinraft/state-pinset'
import { backupAndClean } from './backups.ts'
import { type RaftConfiguration, raftTimings } from './configuration/configuration.ts'
import type {
  AbortOptions,
  Consensus,
  ConsensusEvents,
  ConsensusStatus,
  PinsetView,
} from './consensus-api.ts'
import {
  ConsensusShutdownError,
  LastPeerError,
  NoLeaderError,
  OperationRejectedError,
  OutcomeUnknownError,
  RpcError,
} from './errors.ts'
import {
  CONSENSUS_RPC_PROTOCOL,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  MAX_RPC_MESSAGE_BYTES,
  type RpcRequest,
  type RpcResponse,
} from './rpc/rpc-protocol.ts'

export interface ConsensusInit {
  /** A started libp2p node with the raft-libp2p transport as its `raft` service. */
  libp2p: Libp2p<{ raft: RaftTransport }>
  configuration: RaftConfiguration
  /**
   * A staging peer never bootstraps: it waits to be added to a running cluster, and is ready
   * only once it is a voter and has caught up.
   */
  staging: boolean
  logger?: Logger
}

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
])

/** Errors that are the leader's final answer: retrying cannot change it. */
const finalNames = new Set(['OperationRejectedError', 'LastPeerError', 'ConfigurationChangeError'])

/** Most operations forwarded or proposed together as one batch entry. */
const maxBatchOperations = 512
/**
 * Largest encoded operation: it must fit in one Raft append message (raft-core's default
 * maxBytesPerMessage is 1 MiB) with room to spare.
 */
const maxOperationBytes = 512 * 1024

/** How many commit latencies `status()` keeps for metrics. */
const latencyWindow = 1024

function abortSignal(options: AbortOptions | undefined, timeout: number): AbortSignal {
  const timer = AbortSignal.timeout(timeout)
  return options?.signal === undefined ? timer : AbortSignal.any([options.signal, timer])
}

function sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, milliseconds)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function membersOf(configuration: Configuration): string[] {
  return [...configuration.voters, ...configuration.staging, ...configuration.nonVoters].sort()
}

/** An error that says the operation did not reach the leader (so it was certainly not applied). */
class NotSentError extends Error {
  override readonly name = 'NotSentError'
}

/**
 * IPFS Cluster's Raft consensus component (consensus/raft/consensus.go) on raft-core, raft-level,
 * raft-libp2p and state-pinset. Create it with `createConsensus`.
 */
export class RaftConsensus extends TypedEventTarget<ConsensusEvents> implements Consensus {
  readonly peerId: string
  private readonly libp2p: Libp2p<{ raft: RaftTransport }>
  private readonly configuration: RaftConfiguration
  private readonly staging: boolean
  private readonly logger: Logger
  private readonly pinset: PinsetState
  private storage: RaftStorage | undefined
  private node: RaftNode<ApplyResult> | undefined
  private readonly stopController = new AbortController()
  private readyState = false
  private readonly readyPromise: Promise<void>
  private resolveReady: () => void = () => {}
  private rejectReady: (error: Error) => void = () => {}
  private snapshotTimer: ReturnType<typeof setInterval> | undefined
  private shutDown = false
  private shuttingDown: Promise<void> | undefined
  /** Peers this node, as leader, is adding: allowed to talk Raft before the change applies. */
  private readonly joining = new Set<string>()
  private knownMembers: string[] = []
  private readonly latencies: number[] = []
  private queuedOperations: Array<{
    operation: PinOperation | UnpinOperation
    resolve: (index: number) => void
    reject: (error: Error) => void
  }> = []
  private operationFlushScheduled = false

  constructor(init: ConsensusInit) {
    super()
    this.libp2p = init.libp2p
    this.peerId = init.libp2p.peerId.toString()
    this.configuration = init.configuration
    this.staging = init.staging
    this.logger = init.logger ?? silentLogger
    this.pinset = createPinsetState()
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    // Nobody may be waiting yet: do not let a shutdown before readiness go unhandled.
    this.readyPromise.catch(() => {})
  }

  private get transport(): RaftTransport {
    return this.libp2p.services.raft
  }

  private raft(): RaftNode<ApplyResult> {
    if (this.shutDown || this.node === undefined) {
      throw new ConsensusShutdownError('consensus is shut down')
    }
    return this.node
  }

  /** Opens the Raft data, bootstraps a new peer, starts Raft and the RPC protocol. */
  async start(): Promise<void> {
    const configuration = this.configuration
    this.storage = await openRaftStorage({
      directory: configuration.dataFolder,
      logger: this.logger,
    })
    const { logStore, stableStore, snapshotStore } = this.storage
    const node = new RaftNode<ApplyResult>(
      {
        logStore,
        stableStore,
        snapshotStore,
        transport: this.transport,
        stateMachine: this.pinset,
        logger: this.logger,
      },
      {
        ...raftTimings(configuration),
        maxEntriesPerMessage: configuration.maxAppendEntries,
        snapshotThreshold: configuration.snapshotThreshold,
        trailingLogs: configuration.trailingLogs,
      },
    )
    this.node = node
    if (!this.staging) {
      const voters = [...new Set([...configuration.initPeerset, this.peerId])].sort()
      const bootstrapped = await node.bootstrap({ voters, nonVoters: [], staging: [] })
      if (bootstrapped) {
        this.logger.info('bootstrapped a new cluster', { peers: voters })
      } else if (configuration.initPeerset.length > 0) {
        this.logger.info('existing Raft state found: init_peerset is ignored')
      }
    }
    this.pinset.addEventListener('pin:add', (event) =>
      this.dispatch('pin:add', { pin: event.detail.pin }),
    )
    this.pinset.addEventListener('pin:remove', (event) =>
      this.dispatch('pin:remove', { cid: event.detail.pin.cid.toString() }),
    )
    this.pinset.addEventListener('state:restore', (event) =>
      this.dispatch('state:restore', { count: event.detail.count }),
    )
    node.addEventListener('leader:change', (event) => this.dispatch('leader:change', event.detail))
    node.addEventListener('configuration:change', (event) =>
      this.onConfigurationChange(event.detail.configuration),
    )
    node.addEventListener('node:failed', (event) => {
      this.logger.error('Raft stopped after a storage failure; restart the peer', {
        error: event.detail.error.message,
      })
      this.rejectReady(event.detail.error)
      this.dispatch('consensus:failed', { error: event.detail.error })
    })
    await node.start()
    this.libp2p.addEventListener('peer:disconnect', this.onPeerDisconnect)
    this.onConfigurationChange(node.configuration)
    await this.libp2p.handle(CONSENSUS_RPC_PROTOCOL, this.onRpcStream, { maxInboundStreams: 64 })
    if (configuration.snapshotInterval > 0) {
      this.snapshotTimer = setInterval(
        () => void this.periodicSnapshot(),
        configuration.snapshotInterval,
      )
      this.snapshotTimer.unref?.()
    }
    void this.becomeReady()
  }

  private async becomeReady(): Promise<void> {
    try {
      // For a staging peer, `waitForSync` waits until the leader promotes it: it has caught up.
      await this.raft().waitForSync({ signal: this.stopController.signal })
      this.readyState = true
      this.logger.info('consensus ready', { peerId: this.peerId, leader: this.node?.leader })
      this.dispatch('ready', { peerId: this.peerId })
      this.resolveReady()
    } catch (error) {
      this.rejectReady(error instanceof Error ? error : new Error(String(error)))
    }
  }

  private onConfigurationChange(configuration: Configuration): void {
    const members = membersOf(configuration)
    const previous = new Set(this.knownMembers)
    const current = new Set(members)
    for (const peerId of members) {
      if (!previous.has(peerId)) {
        this.joining.delete(peerId)
        this.dispatch('peer:add', { peerId })
      }
    }
    for (const peerId of this.knownMembers) {
      if (!current.has(peerId)) this.dispatch('peer:remove', { peerId })
    }
    this.knownMembers = members
    this.updateAllowedPeers()
    // A peer that sees itself removed shuts down and cleans its Raft state (IPFS Cluster does
    // the same). Only once ready: a peer replaying old history may pass through removals.
    if (
      this.readyState &&
      previous.has(this.peerId) &&
      !current.has(this.peerId) &&
      !this.shutDown
    ) {
      this.logger.warn(
        'this peer was removed from the cluster: shutting down and cleaning its Raft state',
      )
      void this.shutdown()
        .then(() => this.clean())
        .catch((error: unknown) =>
          this.logger.error('cleaning up after removal failed', { error: String(error) }),
        )
    }
  }

  /** A closed connection to the leader makes followers campaign as soon as its lease runs out. */
  private readonly onPeerDisconnect = (event: CustomEvent<PeerId>): void => {
    this.node?.reportUnreachable(event.detail.toString())
  }

  private updateAllowedPeers(): void {
    // The latest configuration in the log (what Raft uses) and the applied one (which lags it
    // while a restarted peer replays its log) and the peers this leader is adding.
    const latest = this.node === undefined ? [] : membersOf(this.node.configuration)
    const allowed = new Set([...latest, ...this.knownMembers, ...this.joining])
    if (allowed.size === 0) {
      // A staging peer does not know its cluster yet: the private network key is the gate
      // until the leader's first entries tell it the members.
      this.transport.setAllowedPeers(null)
      return
    }
    this.transport.setAllowedPeers(allowed)
  }

  private async periodicSnapshot(): Promise<void> {
    const node = this.node
    if (node === undefined || this.shutDown) return
    const status = node.status()
    if (status.stateMachineIndex > (status.lastSnapshot?.index ?? 0)) {
      await node.snapshot({ signal: this.stopController.signal }).catch((error: unknown) => {
        this.logger.warn('periodic snapshot failed', { error: String(error) })
      })
    }
  }

  // -----------------------------------------------------------------------------------------
  // Public operations

  get isReady(): boolean {
    return this.readyState
  }

  async ready(options?: AbortOptions): Promise<void> {
    if (options?.signal === undefined) return this.readyPromise
    const signal = options.signal
    signal.throwIfAborted()
    let onAbort: () => void = () => {}
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([this.readyPromise, aborted])
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  async logPin(input: PinInput, options?: AbortOptions): Promise<Pin> {
    // The proposer stamps the pin: applying it must not read a clock (replicas would differ).
    const pin = validatePin({ ...input, timestamp: input.timestamp ?? Date.now() })
    const index = await this.logOperation(
      { type: 'pin', pin, requestId: crypto.randomUUID() },
      options,
    )
    await this.waitApplied(index, options)
    return this.pinset.get(pin.cid) ?? pin
  }

  async logUnpin(cid: string, options?: AbortOptions): Promise<void> {
    const parsed = parseCid(cid)
    const index = await this.logOperation(
      { type: 'unpin', cid: parsed, requestId: crypto.randomUUID() },
      options,
    )
    await this.waitApplied(index, options)
  }

  /**
   * Queues an operation; operations queued in the same turn of the event loop travel together as
   * one batch entry (one RPC to the leader, one log entry), each keeping its own request id.
   */
  private logOperation(
    operation: PinOperation | UnpinOperation,
    options?: AbortOptions,
  ): Promise<number> {
    options?.signal?.throwIfAborted()
    return new Promise<number>((resolve, reject) => {
      const signal = options?.signal
      const onAbort = () =>
        reject(
          new OutcomeUnknownError(
            'the operation was aborted by the caller; it may or may not have been applied',
          ),
        )
      signal?.addEventListener('abort', onAbort, { once: true })
      this.queuedOperations.push({
        operation,
        resolve: (index) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(index)
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      })
      if (!this.operationFlushScheduled) {
        this.operationFlushScheduled = true
        queueMicrotask(() => this.flushOperations())
      }
    })
  }

  private flushOperations(): void {
    this.operationFlushScheduled = false
    const queued = this.queuedOperations
    this.queuedOperations = []
    for (let start = 0; start < queued.length; start += maxBatchOperations) {
      this.submitBatch(queued.slice(start, start + maxBatchOperations))
    }
  }

  /** Encodes and submits queued operations as one entry, halving batches that are too large. */
  private submitBatch(chunk: typeof this.queuedOperations): void {
    const only = chunk[0]
    if (only === undefined) return
    const operation =
      chunk.length === 1
        ? encodeOperation(only.operation)
        : encodeOperation({
            type: 'batch',
            operations: chunk.map((item) => item.operation),
            requestId: crypto.randomUUID(),
          })
    if (operation.byteLength > maxOperationBytes) {
      if (chunk.length === 1) {
        only.reject(
          new OperationRejectedError(
            `the operation is ${operation.byteLength} bytes once encoded, more than the ${maxOperationBytes} a log entry may hold; shorten its metadata or name`,
          ),
        )
        return
      }
      const half = Math.ceil(chunk.length / 2)
      this.submitBatch(chunk.slice(0, half))
      this.submitBatch(chunk.slice(half))
      return
    }
    this.submit({ kind: 'log', operation }).then(
      (index) => {
        for (const item of chunk) item.resolve(index)
      },
      (error: unknown) => {
        for (const item of chunk)
          item.reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  }

  async addPeer(peerId: string, options?: AbortOptions): Promise<void> {
    const id = this.parsePeerId(peerId)
    const index = await this.submit({ kind: 'add-peer', peerId: id }, options)
    await this.waitApplied(index, options)
  }

  async rmPeer(peerId: string, options?: AbortOptions): Promise<void> {
    const id = this.parsePeerId(peerId)
    const index = await this.submit({ kind: 'rm-peer', peerId: id }, options)
    await this.waitApplied(index, options)
  }

  private parsePeerId(peerId: string): string {
    try {
      return peerIdFromString(peerId).toString()
    } catch {
      throw new OperationRejectedError(
        `${JSON.stringify(peerId)} is not a peer ID; expected a libp2p peer ID such as 12D3KooW...`,
      )
    }
  }

  state(): PinsetView {
    const pinset = this.pinset
    return {
      get: (cid) => pinset.get(cid),
      has: (cid) => pinset.has(cid),
      count: () => pinset.count(),
      list: (options) => pinset.list(options),
    }
  }

  async leader(options?: AbortOptions): Promise<string> {
    const node = this.raft()
    const known = node.leader
    if (known !== null) return known
    try {
      return await node.waitForLeader({
        signal: abortSignal(options, this.configuration.waitForLeaderTimeout),
      })
    } catch (error) {
      if (options?.signal?.aborted) throw error
      throw new NoLeaderError(
        `no leader was elected within wait_for_leader_timeout (${this.configuration.waitForLeaderTimeout} ms): check that a majority of the peers in the peerset are running and can reach each other`,
      )
    }
  }

  async peers(_options?: AbortOptions): Promise<string[]> {
    return membersOf(this.raft().configuration)
  }

  async waitForSync(options?: AbortOptions): Promise<void> {
    await this.raft().waitForSync(options)
  }

  async readIndex(options?: AbortOptions): Promise<number> {
    try {
      return await this.raft().readIndex({
        signal: abortSignal(options, this.configuration.waitForLeaderTimeout),
      })
    } catch (error) {
      if (options?.signal?.aborted) throw error
      throw new NoLeaderError(
        `no leader confirmed a read point within wait_for_leader_timeout (${this.configuration.waitForLeaderTimeout} ms): check that a majority of the peers in the peerset are running and can reach each other`,
      )
    }
  }

  status(): ConsensusStatus {
    const node = this.node
    const status = node?.status()
    return {
      peerId: this.peerId,
      role: status?.role ?? 'follower',
      leader: status?.leader ?? null,
      term: status?.term ?? 0,
      commitIndex: status?.commitIndex ?? 0,
      appliedIndex: status?.stateMachineIndex ?? 0,
      voters: status?.configuration.voters ?? [],
      nonVoters: [
        ...(status?.configuration.staging ?? []),
        ...(status?.configuration.nonVoters ?? []),
      ],
      pins: this.pinset.count(),
      ready: this.readyState,
      commitLatencies: [...this.latencies],
    }
  }

  async shutdown(options?: AbortOptions): Promise<void> {
    this.shuttingDown ??= this.doShutdown(options)
    return this.shuttingDown
  }

  private async doShutdown(options?: AbortOptions): Promise<void> {
    const node = this.node
    if (this.configuration.leaveOnShutdown && node !== undefined && !this.shutDown) {
      try {
        await this.rmPeer(this.peerId, {
          signal: abortSignal(options, this.configuration.networkTimeout),
        })
        this.logger.info('left the cluster (leave_on_shutdown)')
      } catch (error) {
        this.logger.warn('could not leave the cluster before shutting down', {
          error: String(error),
        })
      }
    }
    this.shutDown = true
    clearInterval(this.snapshotTimer)
    this.stopController.abort(new ConsensusShutdownError('consensus is shutting down'))
    this.rejectReady(new ConsensusShutdownError('consensus shut down before it was ready'))
    this.libp2p.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    await this.libp2p.unhandle(CONSENSUS_RPC_PROTOCOL).catch(() => {})
    if (node !== undefined) {
      const status = node.status()
      // Snapshot first when the log has grown, so the next start replays little.
      if (
        status.state === 'running' &&
        status.stateMachineIndex > (status.lastSnapshot?.index ?? 0)
      ) {
        await node.snapshot().catch((error: unknown) => {
          this.logger.warn('snapshot at shutdown failed', { error: String(error) })
        })
      }
      await node.stop()
    }
    await this.storage?.close()
    this.logger.info('consensus shut down')
  }

  async clean(_options?: AbortOptions): Promise<void> {
    if (!this.shutDown) {
      throw new OperationRejectedError('shut consensus down before cleaning its Raft data')
    }
    const backup = await backupAndClean(
      this.configuration.dataFolder,
      this.configuration.backupsRotate,
    )
    this.logger.info('Raft data cleaned', { backup })
  }

  async rollback(pins: AsyncIterable<PinInput>, options?: AbortOptions): Promise<void> {
    const node = this.raft()
    if (node.role !== 'leader') {
      throw new OperationRejectedError('rollback must run on the leader')
    }
    const wanted = new Set<string>()
    let batch: Array<{ type: 'pin'; pin: Pin } | { type: 'unpin'; cid: string }> = []
    const flush = async () => {
      if (batch.length === 0) return
      const operation = encodeOperation({
        type: 'batch',
        operations: batch,
        requestId: crypto.randomUUID(),
      })
      batch = []
      await this.submit({ kind: 'log', operation }, options)
    }
    for await (const input of pins) {
      const pin = validatePin(input)
      wanted.add(cidKey(pin.cid))
      batch.push({ type: 'pin', pin })
      if (batch.length >= 1000) await flush()
    }
    for await (const pin of this.pinset.list(options)) {
      if (!wanted.has(cidKey(pin.cid))) {
        batch.push({ type: 'unpin', cid: pin.cid.toString() })
        if (batch.length >= 1000) await flush()
      }
    }
    await flush()
  }

  // -----------------------------------------------------------------------------------------
  // Committing, locally or through the leader

  /**
   * Commits `request` through the leader, retrying `commit_retries` times after
   * `commit_retry_delay`. Operations carry request ids, so a retry is never applied twice.
   * Returns the log index at which it was applied.
   */
  private async submit(request: RpcRequest, options?: AbortOptions): Promise<number> {
    const started = performance.now()
    const configuration = this.configuration
    const attempts = configuration.commitRetries + 1
    // Waiting for a new leader does not use up retries, but is bounded by this deadline.
    const deadline = Date.now() + configuration.waitForLeaderTimeout + configuration.networkTimeout
    let lastError: Error | undefined
    let maybeApplied = false
    let attempt = 0
    while (attempt < attempts) {
      const signal = abortSignal(
        options,
        configuration.networkTimeout + configuration.waitForLeaderTimeout,
      )
      let leader: string | undefined
      try {
        leader = await this.leader({ signal })
        const index =
          leader === this.peerId
            ? await this.execute(request, signal)
            : await this.forward(leader, request, signal)
        this.recordLatency(performance.now() - started)
        return index
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
          await this.waitForLeaderChange(leader, deadline, options?.signal)
          continue
        }
        if (!leaderGone && !retryableNames.has(failure.name)) {
          // A timeout, a broken stream or a stopped node after the request left: it may have
          // been applied. Retrying is still safe, since the request id makes it at most once.
          maybeApplied = true
        }
        attempt++
        if (attempt < attempts) await sleep(configuration.commitRetryDelay, options?.signal)
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
  private async waitForLeaderChange(
    previous: string,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<void> {
    while (Date.now() < deadline && !this.shutDown) {
      const leader = this.node?.leader ?? null
      if (leader !== null && leader !== previous) return
      await sleep(25, signal)
    }
  }

  private recordLatency(milliseconds: number): void {
    this.latencies.push(milliseconds)
    if (this.latencies.length > latencyWindow)
      this.latencies.splice(0, this.latencies.length - latencyWindow)
  }

  /** Runs `request` on this node, which believes it is the leader. */
  private async execute(request: RpcRequest, signal: AbortSignal): Promise<number> {
    const node = this.raft()
    switch (request.kind) {
      case 'log': {
        const result = await node.propose(request.operation, { signal })
        if (result.kind === 'rejected') {
          throw new OperationRejectedError(
            `the leader rejected the operation: ${result.error.message}`,
          )
        }
        return node.appliedIndex
      }
      case 'add-peer': {
        this.joining.add(request.peerId)
        this.updateAllowedPeers()
        await node.addVoter(request.peerId, { signal })
        return node.appliedIndex
      }
      case 'rm-peer': {
        try {
          await node.removeServer(request.peerId, { signal })
        } catch (error) {
          if (error instanceof ConfigurationChangeError && /last voter/.test(error.message)) {
            throw new LastPeerError(
              `cannot remove ${request.peerId}: it is the last peer of the cluster`,
            )
          }
          throw error
        }
        return node.appliedIndex
      }
    }
  }

  /** Sends `request` to the leader over the consensus RPC protocol. */
  private async forward(leader: string, request: RpcRequest, signal: AbortSignal): Promise<number> {
    let stream: Stream
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromString(leader), CONSENSUS_RPC_PROTOCOL, {
        signal,
      })
    } catch (error) {
      throw new NotSentError(`could not reach the leader ${leader}: ${String(error)}`)
    }
    const framed = lpStream(stream, { maxDataLength: MAX_RPC_MESSAGE_BYTES })
    let response: RpcResponse
    try {
      await framed.write(encodeRequest(request), { signal })
      response = decodeResponse((await framed.read({ signal })).subarray())
      await stream.close({ signal }).catch(() => {})
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
      throw error
    }
    if (response.ok) return response.index
    const error = new Error(response.message)
    error.name = response.errorName
    if (response.errorName === 'LastPeerError') throw new LastPeerError(response.message)
    if (
      response.errorName === 'OperationRejectedError' ||
      response.errorName === 'ConfigurationChangeError'
    ) {
      throw new OperationRejectedError(response.message)
    }
    throw error
  }

  /** Serves operations forwarded by followers (only members may send them; anyone may ask to join). */
  private readonly onRpcStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const remote = connection.remotePeer.toString()
    const framed = lpStream(stream, { maxDataLength: MAX_RPC_MESSAGE_BYTES })
    const signal = AbortSignal.any([
      this.stopController.signal,
      AbortSignal.timeout(
        this.configuration.networkTimeout + this.configuration.waitForLeaderTimeout,
      ),
    ])
    let response: RpcResponse
    try {
      const request = decodeRequest((await framed.read({ signal })).subarray())
      const joiningItself = request.kind === 'add-peer' && request.peerId === remote
      if (!joiningItself && !this.knownMembers.includes(remote)) {
        throw new RpcError(
          `${remote} is not a member of the cluster; only members may submit operations`,
        )
      }
      const node = this.raft()
      if (node.role !== 'leader') {
        response = {
          ok: false,
          errorName: 'NotLeaderError',
          message: 'this peer is not the leader',
          leader: node.leader,
        }
      } else {
        response = { ok: true, index: await this.execute(request, signal) }
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error))
      if (
        failure.name === 'RpcError' ||
        failure.name === 'InvalidFrameError' ||
        failure.name === 'InvalidDataLengthError'
      ) {
        this.logger.warn('refused a consensus RPC request', {
          from: remote,
          reason: failure.message,
        })
      }
      response = {
        ok: false,
        errorName: failure.name,
        message: failure.message,
        leader: this.node?.leader ?? null,
      }
    }
    try {
      await framed.write(encodeResponse(response), { signal })
      await stream.close({ signal })
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** Waits (bounded) until this peer has applied `index`, so the caller reads its own write. */
  private async waitApplied(index: number, options?: AbortOptions): Promise<void> {
    const node = this.node
    if (node === undefined || node.appliedIndex >= index) return
    try {
      await node.waitForApplied(index, {
        signal: abortSignal(options, this.configuration.networkTimeout),
      })
    } catch {
      // Committed on the leader is what was promised; this peer catches up on its own.
    }
  }
}

/** Creates and starts the consensus component (it is handed to the service, never made inside it). */
export async function createConsensus(init: ConsensusInit): Promise<RaftConsensus> {
  const consensus = new RaftConsensus(init)
  await consensus.start()
  return consensus
}

export { membersOf }
export function normalizeCid(cid: string): string {
  return parseCid(cid).toString()
}
