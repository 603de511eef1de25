import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import {
  type Configuration,
  ConfigurationChangeError,
  isMember,
  type Logger,
  type NodeStatus,
  RaftNode,
  type StateMachine,
  silentLogger,
  TypedEventTarget,
} from '@pinraft/raft-core'
import { openRaftStorage, type RaftStorage, type SnapshotInspection } from '@pinraft/raft-level'
import type { MessageDroppedDetail, RaftTransport } from '@pinraft/raft-libp2p'
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
import { backupAndClean, listBackups } from './backups.ts'
import { type RaftConfiguration, raftTimings } from './configuration/configuration.ts'
import type {
  AbortOptions,
  AddPeerOptions,
  Consensus,
  ConsensusEvents,
  ConsensusStatus,
  PinsetView,
} from './consensus-api.ts'
import {
  ConsensusShutdownError,
  JoinInProgressError,
  JoinNotAllowedError,
  LastPeerError,
  NoLeaderError,
  OperationRejectedError,
  OutcomeUnknownError,
  RemovedFromClusterError,
  RpcError,
} from './errors.ts'
import { admitJoin } from './membership/join-admission.ts'
import { NonVoterReaper } from './membership/non-voter-reaper.ts'
import { ObservedTransport } from './membership/observed-transport.ts'
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
import { type DamagedSnapshot, newestDamagedSnapshot } from './startup/damaged-snapshot.ts'
import { RateLimiter } from './status/rate-limiter.ts'
import { type Waiting, waitingFor } from './status/waiting-for.ts'

export interface ConsensusInit {
  /** A started libp2p node with the raft-libp2p transport as its `raft` service. */
  libp2p: Libp2p<{ raft: RaftTransport }>
  configuration: RaftConfiguration
  /**
   * A staging peer never bootstraps: it waits to be added to a running cluster, and is ready
   * only once it is a voter and has caught up.
   */
  staging: boolean
  /**
   * Start a new cluster even though this peer's Raft state (or its backups) shows it was a
   * member of one: without it, a peer that was removed, left, or had its state cleaned refuses
   * to start with `RemovedFromClusterError` rather than silently bootstrap a new cluster with 0
   * pins. Existing state that no longer includes this peer is moved to a backup first.
   */
  newCluster?: boolean
  logger?: Logger
  /** How often a peer that is not ready logs what it waits for (ms). Default 5000. */
  progressLogInterval?: number
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

/** Most operations forwarded or proposed together as one batch entry. */
const maxBatchOperations = 512
/**
 * Largest encoded operation: it must fit in one Raft append message (raft-core's default
 * maxBytesPerMessage is 1 MiB) with room to spare.
 */
const maxOperationBytes = 512 * 1024

/** How many commit latencies `status()` keeps for metrics. */
const latencyWindow = 1024

/** At most one line per unreachable (or refused) peer in this long. */
const unreachableLogInterval = 30_000

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
  private readonly newCluster: boolean
  private readonly logger: Logger
  private readonly progressLogInterval: number
  private pinset: PinsetState
  private storage: RaftStorage | undefined
  private node: RaftNode<ApplyResult> | undefined
  private readonly observed: ObservedTransport
  private readonly applyListeners = new Set<(milliseconds: number) => void>()
  /** Operations sent to the leader and answered by it. */
  private forwarded = 0
  private readonly stopController = new AbortController()
  private readyState = false
  private readonly readyPromise: Promise<void>
  private resolveReady: () => void = () => {}
  private rejectReady: (error: Error) => void = () => {}
  private snapshotTimer: ReturnType<typeof setInterval> | undefined
  private supervisionTimer: ReturnType<typeof setInterval> | undefined
  private shutDown = false
  private shuttingDown: Promise<void> | undefined
  private failure: Error | undefined
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
  /** This peer started with no Raft state at all (a new disk, `state cleanup`, a wipe). */
  private startedEmpty = false
  /** This peer has seen itself as a staging member (so a later promotion means it caught up). */
  private sawSelfStaging = false
  /** A newer snapshot than the one restored was damaged: ready only once past its index. */
  private damagedSnapshot: DamagedSnapshot | null = null
  private readonly reaper: NonVoterReaper
  /** Members the reaper is removing right now. */
  private readonly removing = new Set<string>()
  private wasLeader = false
  private readonly limiter = new RateLimiter(unreachableLogInterval)
  private readonly leaderLogLimiter = new RateLimiter(1000)
  private leaderLogTimer: ReturnType<typeof setTimeout> | undefined
  private waitingSince: { kind: Waiting['kind']; since: number } | undefined
  private lastWaitingLog = 0

  constructor(init: ConsensusInit) {
    super()
    this.libp2p = init.libp2p
    this.peerId = init.libp2p.peerId.toString()
    this.configuration = init.configuration
    this.staging = init.staging
    this.newCluster = init.newCluster ?? false
    this.logger = init.logger ?? silentLogger
    this.progressLogInterval = init.progressLogInterval ?? 5000
    this.pinset = createPinsetState()
    this.observed = new ObservedTransport({
      transport: init.libp2p.services.raft,
      logger: this.logger,
      onVoteWithheld: (from, type) => {
        const suppressed = this.limiter.allow(`withheld:${from}`)
        if (suppressed === null) return
        this.logger.info(
          "withholding this peer's vote: it started without Raft state and has not caught up yet (a voter that lost its log must not vote). If no leader gets elected without it (a two-voter cluster whose leader this was), stop it, move its backup (raft.old.0) back to its data folder and start it without --bootstrap",
          { from, request: type, withheld: this.observed.withheldVotes, suppressed },
        )
      },
    })
    this.reaper = new NonVoterReaper({
      stagingTimeout: init.configuration.stagingTimeout,
      nonVoterTimeout: init.configuration.nonVoterTimeout,
    })
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
    let node: RaftNode<ApplyResult> | undefined
    // Two rounds at most: the second only after moving aside state that excludes this peer,
    // when the operator asked for a new cluster.
    for (let round = 0; node === undefined; round++) {
      node = await this.open(round > 0)
    }
    this.libp2p.addEventListener('peer:disconnect', this.onPeerDisconnect)
    this.transport.addEventListener('message:dropped', this.onMessageDropped)
    this.onConfigurationChange(node.configuration)
    await this.libp2p.handle(CONSENSUS_RPC_PROTOCOL, this.onRpcStream, { maxInboundStreams: 64 })
    if (configuration.snapshotInterval > 0) {
      this.snapshotTimer = setInterval(
        () => void this.periodicSnapshot(),
        configuration.snapshotInterval,
      )
      this.snapshotTimer.unref?.()
    }
    this.supervisionTimer = setInterval(
      () => this.supervise(),
      Math.min(1000, configuration.heartbeatTimeout),
    )
    this.supervisionTimer.unref?.()
    void this.becomeReady()
  }

  /**
   * Opens the stores and starts a RaftNode on them, after the checks that keep a peer that left
   * its cluster from silently starting a new one (issue 17). Returns undefined when the state was
   * moved aside and must be opened again (`newCluster`).
   */
  private async open(afterReset: boolean): Promise<RaftNode<ApplyResult> | undefined> {
    const configuration = this.configuration
    const storage = await openRaftStorage({
      directory: configuration.dataFolder,
      logger: this.logger,
    })
    this.storage = storage
    const pinset = createPinsetState()
    this.pinset = pinset
    pinset.addEventListener('pin:add', (event) =>
      this.dispatch('pin:add', { pin: event.detail.pin }),
    )
    pinset.addEventListener('pin:remove', (event) =>
      this.dispatch('pin:remove', { cid: event.detail.pin.cid.toString() }),
    )
    pinset.addEventListener('state:restore', (event) =>
      this.dispatch('state:restore', { count: event.detail.count }),
    )
    const { logStore, stableStore, snapshotStore } = storage
    const node = new RaftNode<ApplyResult>(
      {
        logStore,
        stableStore,
        snapshotStore,
        transport: this.observed,
        stateMachine: this.timedStateMachine(),
        logger: this.logger,
      },
      {
        ...raftTimings(configuration),
        maxEntriesPerMessage: configuration.maxAppendEntries,
        snapshotThreshold: configuration.snapshotThreshold,
        trailingLogs: configuration.trailingLogs,
      },
    )
    try {
      this.startedEmpty = !(await node.hasState())
      if (!this.staging && this.startedEmpty) {
        const backups = await listBackups(configuration.dataFolder)
        if (backups.length > 0 && !this.newCluster) {
          throw new RemovedFromClusterError(
            [
              `this peer has no Raft state in ${configuration.dataFolder}, but backups of earlier state are there (${backups.join(', ')}): it was removed from its cluster (\`pinraft peers rm\`, --leave) or its state was cleaned (\`pinraft state cleanup\`).`,
              'Starting now would silently begin a new one-peer cluster with 0 pins, so it does not.',
              'To rejoin the cluster: `pinraft daemon --bootstrap <multiaddress of a running member>` (`pinraft id` on that member prints it).',
              'To start a new cluster from nothing on purpose, ask for a new cluster explicitly (the backups are kept).',
            ].join('\n'),
          )
        }
        if (backups.length > 0) {
          this.logger.warn(
            'starting a new cluster as asked, although backups of earlier state exist',
            {
              backups,
            },
          )
        }
        const voters = [...new Set([...configuration.initPeerset, this.peerId])].sort()
        await node.bootstrap({ voters, nonVoters: [], staging: [] })
        this.logger.info('bootstrapped a new cluster', { peers: voters })
      } else if (!this.staging && configuration.initPeerset.length > 0) {
        this.logger.info('existing Raft state found: init_peerset is ignored')
      }
      this.detectDamagedSnapshot(await snapshotStore.inspect())
      if (this.staging && this.startedEmpty) {
        // Raft's safety assumes a voter never forgets what it acknowledged or voted (thesis §3.8;
        // §4.2 on adding servers). A peer that lost its disk may still be a voter in the leader's
        // configuration, counted in the quorum: if it voted now, with an empty log and no memory
        // of its vote, a candidate lacking committed entries could win with its vote (3 voters:
        // X committed on A and this peer; A down; B, without X, wins with this vote and X is
        // lost), or two candidates could win the same term. So it withholds votes until it has
        // caught up: promoted from staging by the leader (which re-adds a rejoining member as
        // staging and promotes it only once its log matches the commit index, etcd's learner
        // path), or ready (caught up with the leader's commit index through a ReadIndex round).
        // By then its log holds every committed entry, and it has heard a leader of a term newer
        // than the elections it may have voted in before the wipe (their candidates' election
        // timeouts expired long before a rejoin completes).
        this.observed.withholdVotes = true
      }
      this.listen(node)
      this.node = node
      await node.start()
    } catch (error) {
      this.node = undefined
      await node.stop().catch(() => {})
      await storage.close().catch(() => {})
      throw error
    }
    const latest = node.configuration
    if (!this.staging && !this.startedEmpty && !isMember(latest, this.peerId)) {
      this.node = undefined
      await node.stop()
      await storage.close()
      const members = membersOf(latest)
      if (!this.newCluster || afterReset) {
        throw new RemovedFromClusterError(
          [
            `this peer (${this.peerId}) is not in the peerset its Raft state ends with (${members.join(', ') || 'none'}): it was removed from its cluster (\`pinraft peers rm\`, --leave), so it must not vote or bootstrap a new cluster on its own.`,
            'To rejoin the cluster: `pinraft daemon --bootstrap <multiaddress of a running member>` (its state is backed up and it catches up from the leader).',
            'To start a new cluster from nothing on purpose, ask for a new cluster explicitly (this state is moved to a backup first).',
          ].join('\n'),
        )
      }
      const backup = await backupAndClean(
        configuration.dataFolder,
        Math.max(1, configuration.backupsRotate),
      )
      this.logger.warn(
        'this peer was removed from its cluster: starting a new cluster as asked; the old state was backed up',
        { backup, peers: members },
      )
      return undefined
    }
    return node
  }

  private listen(node: RaftNode<ApplyResult>): void {
    node.addEventListener('leader:change', (event) => {
      if (this.node !== node) return
      this.logLeaderChange(event.detail.leader, event.detail.term)
      this.dispatch('leader:change', event.detail)
    })
    node.addEventListener('role:change', (event) => {
      this.logger.debug('Raft role changed', {
        role: event.detail.role,
        previous: event.detail.previous,
        term: event.detail.term,
      })
    })
    node.addEventListener('configuration:change', (event) => {
      if (this.node !== node) return
      this.onConfigurationChange(event.detail.configuration)
    })
    node.addEventListener('snapshot:taken', (event) => {
      this.logger.debug('snapshot taken', {
        index: event.detail.snapshot.index,
        term: event.detail.snapshot.term,
        bytes: event.detail.snapshot.size,
      })
    })
    node.addEventListener('snapshot:installed', (event) => {
      this.logger.debug('snapshot from the leader installed', {
        index: event.detail.snapshot.index,
        term: event.detail.snapshot.term,
        pins: this.pinset.count(),
      })
    })
    node.addEventListener('node:failed', (event) => {
      this.failure = event.detail.error
      this.logger.error('Raft stopped after a storage failure; restart the peer', {
        error: event.detail.error.message,
      })
      this.rejectReady(event.detail.error)
      this.dispatch('consensus:failed', { error: event.detail.error })
    })
  }

  /** Issue 13 §3: a damaged newest snapshot means an older pinset for now; say so loudly. */
  private detectDamagedSnapshot(inspection: SnapshotInspection): void {
    const damaged = newestDamagedSnapshot(inspection)
    this.damagedSnapshot = damaged
    if (damaged === null) return
    this.logger.error(
      `the newest snapshot ${damaged.folder} (index ${damaged.index}) is damaged (${damaged.reason}): this peer starts from ${damaged.startsFrom === 0 ? 'its log alone' : `the older snapshot at index ${damaged.startsFrom}`} and serves an older pinset until it has caught up with a leader; it is not ready before then`,
      { folder: damaged.folder, index: damaged.index, startsFrom: damaged.startsFrom },
    )
  }

  /**
   * At most one line a second; a change held back is logged when the second is over, with the
   * leader known then, so the last line always tells the present.
   */
  private logLeaderChange(leader: string | null, term: number): void {
    const suppressed = this.leaderLogLimiter.allow('leader')
    if (suppressed === null) {
      this.leaderLogTimer ??= setTimeout(() => {
        this.leaderLogTimer = undefined
        const node = this.node
        if (node === undefined || this.shutDown) return
        this.logLeaderChange(node.leader, node.status().term)
      }, 1000)
      this.leaderLogTimer.unref?.()
      return
    }
    if (leader === null) {
      this.logger.info('no leader known: waiting for an election', { term, suppressed })
    } else {
      this.logger.info(leader === this.peerId ? 'this peer is the leader' : 'new leader', {
        leader,
        term,
        suppressed,
      })
    }
  }

  private async becomeReady(): Promise<void> {
    try {
      // For a staging peer, `waitForSync` waits until the leader promotes it: it has caught up.
      const node = this.raft()
      await node.waitForSync({ signal: this.stopController.signal })
      const damaged = this.damagedSnapshot
      if (damaged !== null && node.appliedIndex < damaged.index) {
        // A lone voter is its own leader: its log must still bring it past what it lost.
        await node.waitForApplied(damaged.index, { signal: this.stopController.signal })
      }
      if (damaged !== null) {
        this.logger.info('caught up past the damaged snapshot', {
          folder: damaged.folder,
          index: damaged.index,
          applied: node.appliedIndex,
        })
      }
      this.observed.withholdVotes = false
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
      if (!current.has(peerId)) {
        // A peer catching up replays old history, its own past removal included (a rejoin
        // after a wipe is a removal then an addition): that is not news to act on.
        if (peerId === this.peerId && !this.readyState) continue
        this.dispatch('peer:remove', { peerId })
      }
    }
    this.knownMembers = members
    this.updateAllowedPeers()
    if (configuration.staging.includes(this.peerId)) this.sawSelfStaging = true
    if (
      this.observed.withholdVotes &&
      this.sawSelfStaging &&
      configuration.voters.includes(this.peerId)
    ) {
      // Promoted by the leader: its log matched the commit index (see `open`).
      this.observed.withholdVotes = false
      this.logger.info('promoted to voter after catching up: this peer votes again')
    }
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
    const peer = event.detail.toString()
    if (this.knownMembers.includes(peer)) {
      this.logger.debug('the connection to a member closed', { peer })
    }
    this.node?.reportUnreachable(peer)
  }

  /** Unreachable members and refused non-members, at most one line per peer and interval. */
  private readonly onMessageDropped = (event: CustomEvent<MessageDroppedDetail>): void => {
    const { peer, direction, reason, count } = event.detail
    if (direction === 'outbound' && reason === 'unreachable') {
      const suppressed = this.limiter.allow(`unreachable:${peer}`)
      if (suppressed === null) return
      this.logger.warn(
        'cannot reach a member of the cluster: Raft messages to it are dropped (likely causes: it is down, its address changed, a firewall, or a different cluster secret)',
        { peer, dropped: count, suppressed },
      )
    } else if (direction === 'inbound' && reason === 'not-allowed') {
      const suppressed = this.limiter.allow(`refused:${peer}`)
      if (suppressed === null) return
      this.logger.warn(
        'refused Raft messages from a peer outside the peerset (a removed peer still running, or one that holds the cluster secret but was never added)',
        { peer, dropped: count, suppressed },
      )
    }
  }

  /**
   * Runs every second: the leader's bound on non-voting members, and the periodic line of a
   * peer that is not ready.
   */
  private supervise(): void {
    const node = this.node
    if (node === undefined || this.shutDown) return
    const leading = node.role === 'leader'
    if (leading !== this.wasLeader) {
      this.reaper.reset()
      this.wasLeader = leading
    }
    if (leading) this.reapNonVoters(node)
    this.logWaiting()
  }

  private reapNonVoters(node: RaftNode<ApplyResult>): void {
    const removals = this.reaper.check(node.configuration, Date.now(), (peerId) =>
      this.observed.lastHeard(peerId),
    )
    for (const removal of removals) {
      if (this.removing.has(removal.peerId) || this.joining.has(removal.peerId)) continue
      this.removing.add(removal.peerId)
      this.logger.warn('removing a member that does not vote', {
        peerId: removal.peerId,
        reason: removal.reason,
      })
      node
        .removeServer(removal.peerId, { signal: this.stopController.signal })
        .catch((error: unknown) => {
          this.logger.warn('removing a member that does not vote failed; retrying later', {
            peerId: removal.peerId,
            error: String(error),
          })
        })
        .finally(() => this.removing.delete(removal.peerId))
    }
  }

  private waiting(): Waiting | null {
    const node = this.node
    const status = node?.status()
    if (status === undefined) {
      return { kind: 'stopped', reason: 'consensus to start' }
    }
    return waitingFor({
      peerId: this.peerId,
      failure: this.failure,
      shutDown: this.shutDown,
      ready: this.readyState,
      leader: status.leader,
      term: status.term,
      configuration: status.configuration,
      appliedIndex: status.stateMachineIndex,
      commitIndex: status.commitIndex,
      lastIndex: status.lastIndex,
      incomingSnapshot: this.observed.incomingSnapshot,
      damagedSnapshot: this.damagedSnapshot,
    })
  }

  /** Issue 17: a stuck peer says what it waits for, every few seconds while it lasts. */
  private logWaiting(): void {
    const waiting = this.waiting()
    const now = Date.now()
    if (waiting === null) {
      if (this.waitingSince !== undefined) this.waitingSince = undefined
      return
    }
    // A wait lasts from the first sighting of its kind (catching up changes its numbers).
    const kind = waiting.kind
    if (this.waitingSince === undefined || this.waitingSince.kind !== kind) {
      this.waitingSince = { kind, since: now }
      return
    }
    if (now - this.waitingSince.since < this.progressLogInterval) return
    if (now - this.lastWaitingLog < this.progressLogInterval) return
    this.lastWaitingLog = now
    const fields = {
      waitingFor: waiting.reason,
      seconds: Math.round((now - this.waitingSince.since) / 1000),
    }
    const line = `not ready: waiting ${waiting.reason.startsWith('to ') ? '' : 'for '}${waiting.reason}`
    if (kind === 'catch-up') this.logger.info(line, fields)
    else this.logger.warn(line, fields)
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

  async addPeer(peerId: string, options?: AddPeerOptions): Promise<void> {
    const id = this.parsePeerId(peerId)
    // A peer adding itself knows whether it has state of its own; others are told.
    const freshState = options?.freshState ?? (id === this.peerId && this.freshState)
    const index = await this.submit(
      { kind: 'add-peer', peerId: id, ...(freshState ? { freshState: true } : {}) },
      options,
    )
    await this.waitApplied(index, options)
  }

  /** This peer has no Raft state of its own yet: it started empty and has not caught up. */
  private get freshState(): boolean {
    // A peer that bootstrapped a new cluster has state: the configuration it wrote.
    return (
      this.staging && this.startedEmpty && !this.readyState && (this.node?.appliedIndex ?? 0) === 0
    )
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
      waitingFor: this.waiting()?.reason ?? null,
      freshState: this.freshState,
      commitLatencies: [...this.latencies],
      proposalsForwarded: this.forwarded,
      snapshotsSent: this.observed.snapshotsSent,
      replication: replicationOf(status),
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
    clearInterval(this.supervisionTimer)
    clearTimeout(this.leaderLogTimer)
    this.transport.removeEventListener('message:dropped', this.onMessageDropped)
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
            ? await this.execute(request, signal, this.peerId)
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

  /** The pinset as Raft applies it, timed while someone observes (`observeApply`). */
  private timedStateMachine(): StateMachine<ApplyResult> {
    const pinset = this.pinset
    const listeners = this.applyListeners
    return {
      apply(command) {
        if (listeners.size === 0) return pinset.apply(command)
        const started = performance.now()
        const result = pinset.apply(command)
        const milliseconds = performance.now() - started
        for (const listener of listeners) listener(milliseconds)
        return result
      },
      snapshot: (options) => pinset.snapshot(options),
      restore: (data, options) => pinset.restore(data, options),
    }
  }

  observeApply(listener: (milliseconds: number) => void): () => void {
    this.applyListeners.add(listener)
    return () => this.applyListeners.delete(listener)
  }

  private recordLatency(milliseconds: number): void {
    this.latencies.push(milliseconds)
    if (this.latencies.length > latencyWindow)
      this.latencies.splice(0, this.latencies.length - latencyWindow)
  }

  /** Runs `request` (sent by `from`) on this node, which believes it is the leader. */
  private async execute(request: RpcRequest, signal: AbortSignal, from: string): Promise<number> {
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
      case 'add-peer':
        await this.admit(node, request.peerId, request.freshState === true, from, signal)
        return node.appliedIndex
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

  /**
   * The leader's side of a join: admission (allow-list, one at a time), a warning naming the
   * peer and its addresses, then the change. A member that lost its state is removed and added
   * again: only that resets the leader's record of what it holds (otherwise the leader keeps
   * probing above what the wiped peer has and never sends it a snapshot), and it rejoins as
   * staging, outside the quorum until it has caught up (see `open` on why it must not vote).
   * Removing it first costs no availability: without its log it could not help a quorum anyway.
   */
  private async admit(
    node: RaftNode<ApplyResult>,
    peerId: string,
    freshState: boolean,
    from: string,
    signal: AbortSignal,
  ): Promise<void> {
    const decision = admitJoin({
      peerId,
      freshState,
      configuration: node.configuration,
      joining: this.joining,
      allowList: this.configuration.joinAllowList,
    })
    if (decision.kind === 'member') return
    this.joining.add(peerId)
    this.updateAllowedPeers()
    try {
      const addresses = await this.addressesOf(peerId)
      if (decision.kind === 'rejoin') {
        this.logger.warn(
          'a member without Raft state is rejoining: removing it and adding it again as staging',
          { peerId, addresses, requestedBy: from },
        )
        await node.removeServer(peerId, { signal })
      } else {
        this.logger.warn('a peer is joining the cluster', { peerId, addresses, requestedBy: from })
      }
      await node.addVoter(peerId, { signal })
      this.logger.debug('join in force: the peer catches up as staging', { peerId })
    } finally {
      this.joining.delete(peerId)
      this.updateAllowedPeers()
    }
  }

  /** The addresses this peer knows for `peerId`: its open connections, else the peer store. */
  private async addressesOf(peerId: string): Promise<string[]> {
    try {
      const id = peerIdFromString(peerId)
      const connected = this.libp2p.getConnections(id).map((connection) => connection.remoteAddr)
      if (connected.length > 0) return connected.map((address) => address.toString())
      const known = await this.libp2p.peerStore.get(id)
      return known.addresses.map((address) => address.multiaddr.toString())
    } catch {
      return []
    }
  }

  /** Sends `request` to the leader over the consensus RPC protocol. */
  private async forward(leader: string, request: RpcRequest, signal: AbortSignal): Promise<number> {
    this.logger.debug('forwarding to the leader', {
      leader,
      kind: request.kind,
      ...(request.kind === 'log' ? {} : { peerId: request.peerId }),
    })
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
    this.forwarded++
    if (response.ok) return response.index
    const error = new Error(response.message)
    error.name = response.errorName
    if (response.errorName === 'LastPeerError') throw new LastPeerError(response.message)
    if (response.errorName === 'JoinNotAllowedError') {
      throw new JoinNotAllowedError(response.message)
    }
    if (response.errorName === 'JoinInProgressError') {
      throw new JoinInProgressError(response.message)
    }
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
        response = { ok: true, index: await this.execute(request, signal, remote) }
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

/** On the leader, every other member's match index and how far it lags behind the log. */
function replicationOf(
  status: NodeStatus | undefined,
): Record<string, { match: number; lag: number }> {
  const replication: Record<string, { match: number; lag: number }> = {}
  if (status === undefined || status.role !== 'leader') return replication
  for (const [peer, progress] of Object.entries(status.progress)) {
    if (peer === status.id) continue
    replication[peer] = {
      match: progress.match,
      lag: Math.max(0, status.lastIndex - progress.match),
    }
  }
  return replication
}
