import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  type Configuration,
  type Logger,
  type RaftNode,
  silentLogger,
  TypedEventTarget,
} from '@pinraft/raft-core'
import type { RaftStorage } from '@pinraft/raft-level'
import type { MessageDroppedDetail, RaftTransport } from '@pinraft/raft-libp2p'
import {
  type ApplyResult,
  createPinsetState,
  type Pin,
  type PinInput,
  type PinsetState,
  parseCid,
  validatePin,
} from '@pinraft/state-pinset'
import { backupAndClean } from './backups.ts'
import type { RaftConfiguration } from './configuration/configuration.ts'
import type {
  AbortOptions,
  AddPeerOptions,
  Consensus,
  ConsensusEvents,
  ConsensusStatus,
  PinsetView,
} from './consensus-api.ts'
import { ConsensusShutdownError, NoLeaderError, OperationRejectedError } from './errors.ts'
import { LeaderForwarder } from './forwarding/leader-forwarder.ts'
import { pipelinedRpcHandler, type RpcHost, rpcHandler } from './forwarding/rpc-handler.ts'
import { executeRequest } from './leader/execute-request.ts'
import { admitPeer } from './membership/admit-peer.ts'
import { CatchUpVoteGuard } from './membership/catch-up-vote-guard.ts'
import { membersOf } from './membership/members.ts'
import { NonVoterRemoval } from './membership/non-voter-removal.ts'
import { ObservedTransport } from './membership/observed-transport.ts'
import { PeersetTracker } from './membership/peerset-tracker.ts'
import { type CommitHost, commitWithRetries } from './proposals/commit-with-retries.ts'
import { OperationBatcher } from './proposals/operation-batcher.ts'
import { rollbackTo } from './proposals/rollback.ts'
import {
  CONSENSUS_PIPELINE_PROTOCOL,
  CONSENSUS_RPC_PROTOCOL,
  type RpcRequest,
} from './rpc/rpc-protocol.ts'
import type { DamagedSnapshot } from './startup/damaged-snapshot.ts'
import { openRaft } from './startup/open-raft.ts'
import { LatencyWindow } from './status/latency-window.ts'
import { LeaderChangeLog } from './status/leader-change-log.ts'
import { logNodeEvents } from './status/node-event-log.ts'
import { replicationOf } from './status/replication.ts'
import { type ApplyListener, timedStateMachine } from './status/timed-state-machine.ts'
import { TransportLog } from './status/transport-log.ts'
import { type Waiting, waitingFor } from './status/waiting-for.ts'
import { WaitingLog } from './status/waiting-log.ts'
import { abortSignal, raceAbort } from './util/abort.ts'

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

/** How many commit latencies `status()` keeps for metrics. */
const latencyWindow = 1024

/**
 * IPFS Cluster's Raft consensus component (consensus/raft/consensus.go) on raft-core, raft-level,
 * raft-libp2p and state-pinset. Create it with `createConsensus`. This class ties the parts
 * together: startup (`startup/`), forwarding to the leader (`forwarding/`), proposal batching and
 * retries (`proposals/`), the leader's side of requests (`leader/`), the peerset and joins
 * (`membership/`), and status and progress lines (`status/`).
 */
export class RaftConsensus extends TypedEventTarget<ConsensusEvents> implements Consensus {
  readonly peerId: string
  private readonly libp2p: Libp2p<{ raft: RaftTransport }>
  private readonly configuration: RaftConfiguration
  private readonly staging: boolean
  private readonly newCluster: boolean
  private readonly logger: Logger
  private pinset: PinsetState
  private storage: RaftStorage | undefined
  private node: RaftNode<ApplyResult> | undefined
  private readonly observed: ObservedTransport
  private readonly applyListeners = new Set<ApplyListener>()
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
  private readonly peerset = new PeersetTracker()
  private readonly latencies = new LatencyWindow(latencyWindow)
  private readonly batcher: OperationBatcher
  /** Withholds this peer's votes while it catches up after losing its Raft state. */
  private readonly voteGuard: CatchUpVoteGuard
  /** A newer snapshot than the one restored was damaged: ready only once past its index. */
  private damagedSnapshot: DamagedSnapshot | null = null
  private readonly nonVoterRemoval: NonVoterRemoval
  private readonly transportLog: TransportLog
  private readonly leaderLog: LeaderChangeLog
  private readonly waitingLog: WaitingLog
  private readonly commitHost: CommitHost
  private readonly forwarder: LeaderForwarder
  /** Serves the pipelined protocol. */
  private readonly onPipelinedStream: ReturnType<typeof pipelinedRpcHandler>
  /** Serves operations forwarded by followers. */
  private readonly onRpcStream: ReturnType<typeof rpcHandler>

  constructor(init: ConsensusInit) {
    super()
    this.libp2p = init.libp2p
    this.peerId = init.libp2p.peerId.toString()
    this.configuration = init.configuration
    this.staging = init.staging
    this.newCluster = init.newCluster ?? false
    this.logger = init.logger ?? silentLogger
    this.pinset = createPinsetState()
    this.transportLog = new TransportLog(this.logger)
    this.observed = new ObservedTransport({
      transport: init.libp2p.services.raft,
      logger: this.logger,
      onVoteWithheld: (from, type) =>
        this.transportLog.voteWithheld(from, type, this.observed.withheldVotes),
    })
    this.voteGuard = new CatchUpVoteGuard({
      peerId: this.peerId,
      logger: this.logger,
      observed: this.observed,
    })
    this.nonVoterRemoval = new NonVoterRemoval(
      {
        logger: this.logger,
        lastHeard: (peerId) => this.observed.lastHeard(peerId),
        joining: this.peerset.joining,
        signal: this.stopController.signal,
      },
      {
        stagingTimeout: init.configuration.stagingTimeout,
        nonVoterTimeout: init.configuration.nonVoterTimeout,
      },
    )
    // A batch waits once to be applied here, for all its callers (not a timer per pin).
    this.batcher = new OperationBatcher(async (operation) => {
      const index = await this.submit({ kind: 'log', operation })
      await this.waitApplied(index)
      return index
    })
    this.leaderLog = new LeaderChangeLog(this.logger, this.peerId, () => {
      const node = this.node
      if (node === undefined || this.shutDown) return null
      return { leader: node.leader, term: node.status().term }
    })
    this.waitingLog = new WaitingLog(this.logger, init.progressLogInterval ?? 5000)
    const configuration = init.configuration
    this.commitHost = {
      peerId: this.peerId,
      commitRetries: configuration.commitRetries,
      commitRetryDelay: configuration.commitRetryDelay,
      networkTimeout: configuration.networkTimeout,
      waitForLeaderTimeout: configuration.waitForLeaderTimeout,
      leader: (options) => this.leader(options),
      knownLeader: () => this.node?.leader ?? null,
      isShutDown: () => this.shutDown,
      execute: (request, signal) => this.execute(request, signal, this.peerId),
      forward: (leader, request, signal) => this.forwarder.forward(leader, request, signal),
    }
    const rpcHost: RpcHost = {
      logger: this.logger,
      stopSignal: this.stopController.signal,
      requestTimeout: configuration.networkTimeout + configuration.waitForLeaderTimeout,
      isMember: (peerId) => this.peerset.isMember(peerId),
      role: () => this.raft().role,
      leader: () => this.node?.leader ?? null,
      execute: (request, signal, from) => this.execute(request, signal, from),
    }
    this.onRpcStream = rpcHandler(rpcHost)
    this.onPipelinedStream = pipelinedRpcHandler(rpcHost)
    this.forwarder = new LeaderForwarder({ libp2p: this.libp2p, logger: this.logger })
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
    await this.libp2p.handle(CONSENSUS_PIPELINE_PROTOCOL, this.onPipelinedStream, {
      maxInboundStreams: 8,
    })
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

  /** One round of `openRaft` on a new pinset; undefined when it must be opened again. */
  private async open(afterReset: boolean): Promise<RaftNode<ApplyResult> | undefined> {
    this.pinset = this.createPinset()
    const opened = await openRaft(
      {
        peerId: this.peerId,
        configuration: this.configuration,
        staging: this.staging,
        newCluster: this.newCluster,
        logger: this.logger,
        transport: this.observed,
        stateMachine: timedStateMachine(this.pinset, this.applyListeners),
        attach: (node, startedEmpty) => {
          this.voteGuard.opened(this.staging, startedEmpty)
          this.listen(node)
          this.node = node
        },
        detach: () => {
          this.node = undefined
        },
      },
      afterReset,
    )
    if (opened === undefined) return undefined
    this.storage = opened.storage
    this.damagedSnapshot = opened.damagedSnapshot
    return opened.node
  }

  /** A pinset whose changes are this component's events. */
  private createPinset(): PinsetState {
    const pinset = createPinsetState()
    // Per pin: skipped while nobody listens (a CustomEvent and a CID string per pin otherwise).
    pinset.addEventListener('pin:add', (event) => {
      if (this.listens('pin:add')) this.dispatch('pin:add', { pin: event.detail.pin })
    })
    pinset.addEventListener('pin:remove', (event) => {
      if (this.listens('pin:remove')) {
        this.dispatch('pin:remove', { cid: event.detail.pin.cid.toString() })
      }
    })
    pinset.addEventListener('state:restore', (event) =>
      this.dispatch('state:restore', { count: event.detail.count }),
    )
    return pinset
  }

  private listen(node: RaftNode<ApplyResult>): void {
    node.addEventListener('leader:change', (event) => {
      if (this.node !== node) return
      this.leaderLog.log(event.detail.leader, event.detail.term)
      this.dispatch('leader:change', event.detail)
    })
    node.addEventListener('configuration:change', (event) => {
      if (this.node !== node) return
      this.onConfigurationChange(event.detail.configuration)
    })
    logNodeEvents(node, this.logger, () => this.pinset.count())
    node.addEventListener('node:failed', (event) => {
      this.failure = event.detail.error
      this.logger.error('Raft stopped after a storage failure; restart the peer', {
        error: event.detail.error.message,
      })
      this.rejectReady(event.detail.error)
      this.dispatch('consensus:failed', { error: event.detail.error })
    })
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
      this.voteGuard.caughtUp()
      this.readyState = true
      this.logger.info('consensus ready', { peerId: this.peerId, leader: this.node?.leader })
      this.dispatch('ready', { peerId: this.peerId })
      this.resolveReady()
    } catch (error) {
      this.rejectReady(error instanceof Error ? error : new Error(String(error)))
    }
  }

  private onConfigurationChange(configuration: Configuration): void {
    const { added, removed } = this.peerset.update(configuration)
    for (const peerId of added) this.dispatch('peer:add', { peerId })
    for (const peerId of removed) {
      // A peer catching up replays old history, its own past removal included (a rejoin
      // after a wipe is a removal then an addition): that is not news to act on.
      if (peerId === this.peerId && !this.readyState) continue
      this.dispatch('peer:remove', { peerId })
    }
    this.updateAllowedPeers()
    this.voteGuard.configurationApplied(configuration)
    // A peer that sees itself removed shuts down and cleans its Raft state (IPFS Cluster does
    // the same). Only once ready: a peer replaying old history may pass through removals.
    if (this.readyState && removed.includes(this.peerId) && !this.shutDown) {
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
    if (this.peerset.isMember(peer)) {
      this.logger.debug('the connection to a member closed', { peer })
    }
    this.node?.reportUnreachable(peer)
  }

  /** Unreachable members and refused non-members, at most one line per peer and interval. */
  private readonly onMessageDropped = (event: CustomEvent<MessageDroppedDetail>): void => {
    this.transportLog.messageDropped(event.detail)
  }

  /**
   * Runs every second: the leader's bound on non-voting members, and the periodic line of a
   * peer that is not ready.
   */
  private supervise(): void {
    const node = this.node
    if (node === undefined || this.shutDown) return
    const now = Date.now()
    this.nonVoterRemoval.check(node, now)
    this.waitingLog.check(this.waiting(), now)
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

  private updateAllowedPeers(): void {
    this.transport.setAllowedPeers(this.peerset.allowed(this.node?.configuration))
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
    await raceAbort(this.readyPromise, options.signal)
  }

  async logPin(input: PinInput, options?: AbortOptions): Promise<Pin> {
    // The proposer stamps the pin: applying it must not read a clock (replicas would differ).
    const pin = validatePin({ ...input, timestamp: input.timestamp ?? Date.now() })
    const index = await this.batcher.enqueue(
      { type: 'pin', pin, requestId: crypto.randomUUID() },
      options,
    )
    await this.waitApplied(index, options)
    return this.pinset.get(pin.cid) ?? pin
  }

  async logUnpin(cid: string, options?: AbortOptions): Promise<void> {
    const parsed = parseCid(cid)
    const index = await this.batcher.enqueue(
      { type: 'unpin', cid: parsed, requestId: crypto.randomUUID() },
      options,
    )
    await this.waitApplied(index, options)
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
      this.staging &&
      this.voteGuard.startedEmpty &&
      !this.readyState &&
      (this.node?.appliedIndex ?? 0) === 0
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
      commitLatencies: this.latencies.snapshot(),
      proposalsForwarded: this.forwarder.forwarded,
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
    this.leaderLog.stop()
    this.transport.removeEventListener('message:dropped', this.onMessageDropped)
    this.stopController.abort(new ConsensusShutdownError('consensus is shutting down'))
    this.rejectReady(new ConsensusShutdownError('consensus shut down before it was ready'))
    this.libp2p.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    await this.libp2p.unhandle(CONSENSUS_RPC_PROTOCOL).catch(() => {})
    await this.libp2p.unhandle(CONSENSUS_PIPELINE_PROTOCOL).catch(() => {})
    await this.forwarder.stop()
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
    await rollbackTo(
      pins,
      this.pinset,
      (operation, abort) => this.submit({ kind: 'log', operation }, abort),
      options,
    )
  }

  // -----------------------------------------------------------------------------------------
  // Committing, locally or through the leader

  /** Commits `request` through the leader (`commitWithRetries`), timing it for `status()`. */
  private async submit(request: RpcRequest, options?: AbortOptions): Promise<number> {
    const started = performance.now()
    const index = await commitWithRetries(this.commitHost, request, options)
    this.latencies.record(performance.now() - started)
    return index
  }

  observeApply(listener: ApplyListener): () => void {
    this.applyListeners.add(listener)
    return () => this.applyListeners.delete(listener)
  }

  /** Runs `request` (sent by `from`) on this node, which believes it is the leader. */
  private execute(request: RpcRequest, signal: AbortSignal, from: string): Promise<number> {
    return executeRequest(this.raft(), request, signal, from, (node, peerId, fresh, by, abort) =>
      admitPeer(
        {
          libp2p: this.libp2p,
          logger: this.logger,
          joining: this.peerset.joining,
          allowList: this.configuration.joinAllowList,
          onJoiningChange: () => this.updateAllowedPeers(),
        },
        node,
        peerId,
        fresh,
        by,
        abort,
      ),
    )
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
