import type { AbortOptions } from '../abort.ts'
import { bootstrapState } from '../configuration/bootstrap.ts'
import {
  applyConfigurationChange,
  decodeConfigurationChange,
  isSoleVoter,
} from '../configuration/configuration.ts'
import {
  ConfigurationChangeInProgressError,
  InvalidOptionError,
  LeadershipTransferError,
  NodeStoppedError,
  NotLeaderError,
  ProposalDroppedError,
  StorageFailedError,
} from '../errors.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'
import type { Message, SnapshotMessage } from '../message.ts'
import type { RaftOptions } from '../raft/options.ts'
import type { Ready } from '../raft/raw-node.ts'
import { RawNode } from '../raft/raw-node.ts'
import type { Status } from '../raft/status.ts'
import type { LogStore } from '../storage/log-store.ts'
import type { SnapshotStore, StoredSnapshot } from '../storage/snapshot-store.ts'
import type { StableStore } from '../storage/stable-store.ts'
import type { Transport, TransportHandler } from '../transport/transport.ts'
import type {
  Configuration,
  ConfigurationChange,
  Entry,
  HardState,
  NodeId,
  Role,
  SnapshotMetadata,
} from '../types.ts'
import { emptyConfiguration } from '../types.ts'
import type { Clock } from './clock.ts'
import { systemClock } from './clock.ts'
import { CommitNotificationHold } from './commit-notification-hold.ts'
import { TypedEventTarget } from './events.ts'
import { type RaftNodeInit, resolveNodeOptions } from './node-options.ts'
import { type PendingProposal, ProposalWaits } from './proposal-waits.ts'
import { planReady, type ReadyPlan } from './ready-plan.ts'
import { sendStoredSnapshot } from './snapshot-sender.ts'
import type { StateMachine } from './state-machine.ts'
import { abortError, sleep, Waiters } from './waiting.ts'

/** The events a `RaftNode` emits, by name. */
export interface RaftNodeEvents {
  /** The known leader changed (null: none known). */
  'leader:change': { leader: NodeId | null; term: number }
  'role:change': { role: Role; previous: Role; term: number }
  /** A configuration entry was applied (or a snapshot brought a new configuration). */
  'configuration:change': { configuration: Configuration; index: number }
  /** A staging member caught up and was promoted to voter. */
  'peer:caught-up': { id: NodeId; index: number }
  'snapshot:taken': { snapshot: StoredSnapshot }
  'snapshot:installed': { snapshot: SnapshotMetadata }
  /** Storage failed: the node stopped (fail-stop) and must be restarted. */
  'node:failed': { error: Error }
}

export interface RaftNodeComponents<Result> {
  logStore: LogStore
  stableStore: StableStore
  snapshotStore: SnapshotStore
  transport: Transport
  stateMachine: StateMachine<Result>
  clock?: Clock
  logger?: Logger
}

/**
 * A proposal waiting for the Ready loop to append it. Without a signal, the same object then
 * waits in `proposals` for its entry to apply: one object per proposal besides its promise.
 */
interface QueuedProposal<Result> extends PendingProposal<Result> {
  readonly data: Uint8Array
  readonly signal: AbortSignal | undefined
}

type NodeState = 'new' | 'running' | 'stopping' | 'stopped' | 'failed'

/** Extended status: the core's view plus what the driver knows. */
export interface NodeStatus extends Status {
  /** Highest index the state machine has applied (the core's `appliedIndex` is what it handed out). */
  readonly stateMachineIndex: number
  readonly lastSnapshot: { readonly index: number; readonly term: number } | null
  readonly state: NodeState
}

/**
 * Runs a Raft node: drives the pure `RawNode` with a clock, durable stores, a transport and a
 * state machine, and offers promise APIs on top (hashicorp/raft's `Raft`, built the etcd way).
 *
 * Order of work for each Ready (thesis §3.8, §10.2): install a snapshot, persist entries and
 * hard state, only then send messages, then apply committed entries; a leader's appends and
 * heartbeats leave early only when the term and vote they carry are already durable
 * (`planReady`). Any storage error stops the
 * node for good (fail-stop): it never acknowledges what it is not sure is durable.
 */
export class RaftNode<Result = unknown> extends TypedEventTarget<RaftNodeEvents> {
  readonly id: NodeId
  private readonly components: RaftNodeComponents<Result>
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly tickInterval: number
  private readonly snapshotThreshold: number
  private readonly trailingLogs: number
  private readonly raftOptions: RaftOptions
  /** The largest entry a proposal may make: one must fit in one append message. */
  private readonly maxEntryBytes: number
  /** Holds a leader's empty appends (`commitNotificationDelay`); undefined when it is 0. */
  private readonly hold: CommitNotificationHold | undefined

  private raw: RawNode | undefined
  private state: NodeState = 'new'
  private failure: Error | undefined
  private tickTimer: unknown
  private loopRunning = false
  private loopAgain = false
  private loopDone: Promise<void> = Promise.resolve()

  /** Entries handed out by the core, waiting for the state machine. */
  private applyQueue: Entry[] = []
  private applyScheduled = false
  /**
   * Everything that touches the state machine (applying, snapshotting, restoring) runs on this
   * one chain, in order, so a snapshot never sees a half-applied batch.
   */
  private lane: Promise<void> = Promise.resolve()
  /** Tasks on the lane not finished yet (0: committed entries may be applied at once). */
  private laneTasks = 0
  /** The state machine's apply returned a promise once: apply on the lane only. */
  private applyIsAsync = false
  /** Invariant: lastApplied <= the core's applied index. */
  private lastApplied = 0
  private appliedTerm = 0
  /** The configuration as of `appliedIndex` (what a snapshot taken now must record). */
  private appliedConfiguration: Configuration = emptyConfiguration
  private lastSnapshot: { index: number; term: number } | null = null
  /** The hard state last written to the stable store. */
  private savedHardState: HardState | undefined

  private readonly proposals = new ProposalWaits<Result>()
  private proposalQueue: Array<QueuedProposal<Result>> = []
  private readonly reads = new Map<string, { resolve: (index: number) => void }>()
  private readCounter = 0
  private readonly waiters = new Waiters()
  private previousRole: Role = 'follower'
  private previousLeader: NodeId | null = null

  constructor(components: RaftNodeComponents<Result>, init: RaftNodeInit = {}) {
    super()
    this.components = components
    this.id = components.transport.localId
    this.clock = components.clock ?? systemClock
    this.logger = components.logger ?? silentLogger
    const options = resolveNodeOptions(init, this.logger)
    this.tickInterval = options.tickInterval
    this.snapshotThreshold = options.snapshotThreshold
    this.trailingLogs = options.trailingLogs
    this.raftOptions = options.raftOptions
    this.maxEntryBytes = options.maxEntryBytes
    this.hold =
      options.commitNotificationDelay === 0
        ? undefined
        : new CommitNotificationHold(
            options.commitNotificationDelay,
            this.clock,
            (messages) => components.transport.send(messages),
            () => this.flushCommitNotifications(),
          )
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  /** Whether the stores hold any Raft state (a node that has state must not bootstrap again). */
  async hasState(options?: AbortOptions): Promise<boolean> {
    const [hardState, lastIndex, snapshots] = await Promise.all([
      this.components.stableStore.load(options),
      this.components.logStore.lastIndex(options),
      this.components.snapshotStore.list(options),
    ])
    return hardState !== undefined || lastIndex > 0 || snapshots.length > 0
  }

  /**
   * Writes the initial configuration of a new cluster (hashicorp/raft's BootstrapCluster). Must
   * be called before `start`. Returns false, changing nothing, when the stores already hold state:
   * existing state always wins over an initial configuration.
   */
  async bootstrap(configuration: Configuration, options?: AbortOptions): Promise<boolean> {
    if (this.state !== 'new') {
      throw new InvalidOptionError('bootstrap must be called before start')
    }
    if (await this.hasState(options)) {
      return false
    }
    const initial = bootstrapState(configuration)
    await this.components.logStore.append(initial.entries, options)
    await this.components.stableStore.save(initial.hardState, options)
    return true
  }

  /** Loads the stores, restores the state machine from the newest snapshot and starts ticking. */
  async start(options?: AbortOptions): Promise<void> {
    if (this.state !== 'new') {
      throw new InvalidOptionError(`a RaftNode starts once; this one is ${this.state}`)
    }
    const { logStore, stableStore, snapshotStore, stateMachine, transport } = this.components
    const hardState = await stableStore.load(options)
    this.savedHardState = hardState
    const snapshots = await snapshotStore.list(options)
    const newest = snapshots[0]
    if (newest !== undefined) {
      const opened = await snapshotStore.open(newest.id, options)
      await stateMachine.restore(opened.data, options)
      this.lastApplied = newest.index
      this.appliedTerm = newest.term
      this.appliedConfiguration = newest.configuration
      this.lastSnapshot = { index: newest.index, term: newest.term }
    }
    const first = await logStore.firstIndex(options)
    const last = await logStore.lastIndex(options)
    const entries = last > 0 ? await logStore.entries(first, last + 1, options) : []
    this.raw = new RawNode(this.id, { hardState, snapshot: newest, entries }, this.raftOptions)
    this.previousRole = this.raw.raft.role
    this.previousLeader = this.raw.raft.leader
    this.state = 'running'
    const handler: TransportHandler = {
      onMessage: (message) => this.receive(message),
      onSnapshot: (message, data, snapshotOptions) =>
        this.receiveSnapshot(message, data, snapshotOptions),
      onUnreachable: (peer) => {
        this.raw?.reportUnreachable(peer)
        this.kick()
      },
    }
    transport.setHandler(handler)
    this.scheduleTick()
    this.logger.info('raft node started', {
      id: this.id,
      term: hardState?.term ?? 0,
      snapshot: newest?.index ?? 0,
      lastIndex: last,
    })
    // The sole voter of its configuration has nobody to hear from and wins its election alone
    // (§3.4): an election timeout would only delay it, and every restart of a one-peer cluster
    // with it. Its log holds every configuration change, as it appended each one as leader.
    // After the roles above are recorded, so that the loop reports the change like any other.
    if (isSoleVoter(this.raw.raft.configuration, this.id)) this.raw.campaign()
    this.kick()
  }

  /**
   * Stops the node: no more ticks or messages, pending operations rejected with
   * `NodeStoppedError`. The stores are left to their owner to close.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'new') {
      this.state = 'stopped'
      return
    }
    const wasFailed = this.state === 'failed'
    this.state = 'stopping'
    this.components.transport.setHandler(undefined)
    this.clock.clearTimeout(this.tickTimer)
    this.hold?.clear()
    await this.loopDone
    await this.lane
    this.state = wasFailed ? 'failed' : 'stopped'
    this.rejectAll(
      new NodeStoppedError('the node stopped; the outcome of operations in flight is unknown'),
    )
  }

  private get running(): boolean {
    return this.state === 'running'
  }

  private rawNode(): RawNode {
    if (this.raw === undefined || this.state === 'new') {
      throw new NodeStoppedError('the node is not started: call start() first')
    }
    if (this.state === 'failed') {
      throw new StorageFailedError(
        `the node stopped after a storage failure (${this.failure?.message ?? 'unknown'}); restart it`,
      )
    }
    if (this.state !== 'running') {
      throw new NodeStoppedError('the node is stopped')
    }
    return this.raw
  }

  private fail(error: unknown): void {
    if (this.state === 'failed' || this.state === 'stopped') return
    const failure =
      error instanceof Error && error.name === 'StorageFailedError'
        ? error
        : new StorageFailedError(
            `storage failed, so the node stopped (fail-stop): ${String(error)}`,
          )
    this.failure = failure
    this.logger.error('raft node failed', { id: this.id, error: String(error) })
    this.state = 'failed'
    this.components.transport.setHandler(undefined)
    this.clock.clearTimeout(this.tickTimer)
    this.rejectAll(failure)
    this.dispatch('node:failed', { error: failure })
  }

  private rejectAll(error: Error): void {
    this.proposals.rejectAll(error)
    for (const queued of this.proposalQueue) queued.reject(error)
    this.proposalQueue = []
    this.waiters.rejectAll(error)
    this.reads.clear()
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      if (!this.running) return
      this.raw?.tick()
      this.kick()
      this.scheduleTick()
    }, this.tickInterval)
  }

  // ---------------------------------------------------------------------------------------
  // Inputs

  private receive(message: Message): void {
    if (!this.running || this.raw === undefined) return
    try {
      this.raw.step(message)
    } catch (error) {
      this.fail(error)
      return
    }
    this.kick()
  }

  private async receiveSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void> {
    if (!this.running) {
      throw new NodeStoppedError('the node is not running')
    }
    const sink = await this.components.snapshotStore.create(message.snapshot, options)
    try {
      for await (const chunk of data) {
        await sink.write(chunk, options)
      }
      await sink.close(options)
    } catch (error) {
      await sink.abort()
      throw error
    }
    this.receive(message)
  }

  // ---------------------------------------------------------------------------------------
  // The Ready loop

  /** Makes sure the loop runs (again) soon. */
  private kick(): void {
    if (!this.running) return
    if (this.loopRunning) {
      this.loopAgain = true
      return
    }
    this.loopRunning = true
    this.loopDone = this.loop()
  }

  private async loop(): Promise<void> {
    try {
      // Start on a fresh microtask, so that everything queued in the caller's turn is batched.
      await Promise.resolve()
      do {
        this.loopAgain = false
        if (this.proposalQueue.length > 0) this.flushProposals()
        while (this.running && this.raw?.hasReady()) {
          const ready = this.raw.ready()
          try {
            if (ready.snapshot !== undefined) await this.installSnapshot(ready.snapshot)
            // What may leave before the disk and what is written in which order: see
            // planReady. In short, appends and heartbeats leave early only when the term and
            // vote are already durable.
            const plan = planReady(ready, this.savedHardState)
            if (plan.early.length > 0) this.send(plan.early)
            // Awaited only when something is written: a Ready that only carries messages or
            // committed entries is handled without yielding, which keeps a round of Raft short.
            const durable = this.persist(plan)
            if (durable !== undefined) await durable
            this.finishReady(ready, plan.late)
          } catch (error) {
            this.fail(error)
            return
          }
          if (!this.running) return
          this.raw.advance(ready)
          this.afterAdvance(ready)
          if (this.proposalQueue.length > 0) this.flushProposals()
        }
        this.checkWaiters()
      } while (this.loopAgain && this.running)
    } finally {
      this.loopRunning = false
      // A kick between the loop's last check and here would otherwise wait for the next tick
      // or message.
      if (this.loopAgain) this.kick()
    }
  }

  /**
   * Writes what `plan` asks; a promise only when there is something to write. The hard state and
   * entries are issued together when the term is unchanged, so a store with group commit makes
   * them durable with one sync; in order when it changed (no entry is ever ahead of its term).
   */
  private persist(plan: ReadyPlan): Promise<void> | undefined {
    const hardState = plan.hardState
    const entries = plan.entries
    if (hardState === undefined) {
      return entries.length > 0 ? this.components.logStore.append(entries) : undefined
    }
    return entries.length > 0
      ? this.persistBoth(hardState, entries, plan.hardStateFirst)
      : this.saveHardState(hardState)
  }

  private async saveHardState(hardState: HardState): Promise<void> {
    await this.components.stableStore.save(hardState)
    this.savedHardState = hardState
  }

  private async persistBoth(
    hardState: HardState,
    entries: readonly Entry[],
    hardStateFirst: boolean,
  ): Promise<void> {
    const { logStore } = this.components
    if (hardStateFirst) {
      await this.saveHardState(hardState)
      await logStore.append(entries)
      return
    }
    const appended = logStore.append(entries)
    const saved = this.saveHardState(hardState)
    // Both settle before this returns; a failure of the second is not left unhandled.
    saved.catch(() => {})
    try {
      await appended
    } finally {
      await saved
    }
  }

  /** Everything the remaining messages depend on is durable: send them, then apply. */
  private finishReady(ready: Ready, late: readonly Message[]): void {
    const messages: Message[] = []
    for (const message of late) {
      if (message.type === 'snapshot') {
        this.sendSnapshot(message)
      } else {
        messages.push(message)
      }
    }
    if (messages.length > 0) {
      this.send(messages)
    }
    if (ready.committedEntries.length > 0) this.applyCommitted(ready.committedEntries)
    for (const read of ready.readStates) {
      this.reads.get(read.context)?.resolve(read.index)
    }
  }

  /** Hands messages to the transport, through the hold when there is one (`CommitNotificationHold`). */
  private send(messages: readonly Message[]): void {
    if (this.hold === undefined) {
      this.components.transport.send(messages)
      return
    }
    this.hold.send(messages, this.raw?.raft.role === 'leader')
  }

  /**
   * Sends at once the commit index held for `peer` (every follower when omitted); see
   * `commitNotificationDelay`. For a follower known to be waiting for the commit, such as one
   * that forwarded the proposal and answers its caller only once it applied it.
   */
  flushCommitNotifications(peer?: NodeId): void {
    if (!this.running) return
    this.hold?.flush(peer)
  }

  private afterAdvance(ready: Ready): void {
    const raft = this.raw?.raft
    if (raft === undefined) return
    if (ready.softState !== undefined) {
      if (raft.role !== this.previousRole) {
        const previous = this.previousRole
        this.previousRole = raft.role
        this.dispatch('role:change', { role: raft.role, previous, term: raft.term })
      }
      if (raft.leader !== this.previousLeader) {
        this.previousLeader = raft.leader
        this.dispatch('leader:change', { leader: raft.leader, term: raft.term })
      }
    }
  }

  /** Replaces the state machine with a snapshot the leader sent (already in the snapshot store). */
  private installSnapshot(snapshot: SnapshotMetadata): Promise<void> {
    // Entries handed out earlier are applied first, on the lane; the state machine is replaced next.
    return this.onLane(() => this.restoreSnapshot(snapshot))
  }

  private async restoreSnapshot(snapshot: SnapshotMetadata): Promise<void> {
    const { snapshotStore, stateMachine, logStore } = this.components
    this.applyQueue = []
    const stored = (await snapshotStore.list()).find(
      (candidate) => candidate.index === snapshot.index && candidate.term === snapshot.term,
    )
    if (stored === undefined) {
      throw new StorageFailedError(
        `the snapshot at index ${snapshot.index} term ${snapshot.term} was received but is not in the snapshot store`,
      )
    }
    const opened = await snapshotStore.open(stored.id)
    await stateMachine.restore(opened.data)
    const lastIndex = await logStore.lastIndex()
    await logStore.truncatePrefix(Math.max(lastIndex, snapshot.index))
    this.proposals.replacedBySnapshot(snapshot.index)
    this.lastApplied = snapshot.index
    this.appliedTerm = snapshot.term
    this.appliedConfiguration = snapshot.configuration
    this.lastSnapshot = { index: snapshot.index, term: snapshot.term }
    this.logger.info('installed snapshot', { index: snapshot.index, term: snapshot.term })
    this.dispatch('snapshot:installed', { snapshot })
    this.dispatch('configuration:change', {
      configuration: snapshot.configuration,
      index: snapshot.index,
    })
  }

  private sendSnapshot(message: SnapshotMessage): void {
    const { snapshotStore, transport } = this.components
    sendStoredSnapshot(snapshotStore, transport, message, () => {
      void this.onLane(() => this.takeSnapshot())
    }).then(
      () => {
        this.raw?.reportSnapshot(message.to, 'finished')
        this.kick()
      },
      (error: unknown) => {
        this.logger.warn('sending a snapshot failed; the leader will retry', {
          to: message.to,
          error: String(error),
        })
        this.raw?.reportSnapshot(message.to, 'failed')
        this.kick()
      },
    )
  }

  // ---------------------------------------------------------------------------------------
  // Applying

  private onLane<T>(task: () => Promise<T>): Promise<T> {
    this.laneTasks++
    const run = this.lane.then(task)
    const done = () => {
      this.laneTasks--
    }
    this.lane = run.then(done, done)
    return run
  }

  /**
   * Applies committed entries in order. While nothing waits on the lane (no snapshot being
   * installed or taken, no earlier entries queued) a synchronous state machine applies them at
   * once, without the lane's turns of the event loop: the round of a sequential proposer is
   * that much shorter. A snapshot due, or an apply that returns a promise, hands the rest to
   * the lane, which keeps the order.
   */
  private applyCommitted(entries: readonly Entry[]): void {
    if (this.laneTasks > 0 || this.applyQueue.length > 0 || this.applyIsAsync) {
      for (const entry of entries) this.applyQueue.push(entry)
      this.scheduleApply()
      return
    }
    for (let i = 0; i < entries.length; i++) {
      if (!(this.running || this.state === 'stopping')) return
      const entry = entries[i] as Entry
      const snapshotDue = entry.index - (this.lastSnapshot?.index ?? 0) >= this.snapshotThreshold
      if (snapshotDue) {
        // The lane applies this entry, then snapshots (waiting for the store) before the rest.
        for (let rest = i; rest < entries.length; rest++) {
          this.applyQueue.push(entries[rest] as Entry)
        }
        this.scheduleApply()
        break
      }
      const pending = this.applyEntry(entry)
      if (pending !== undefined) {
        // An asynchronous state machine: from now on every entry goes through the lane.
        this.applyIsAsync = true
        for (let rest = i + 1; rest < entries.length; rest++) {
          this.applyQueue.push(entries[rest] as Entry)
        }
        void this.onLane(async () => {
          await pending
          if (entry.index - (this.lastSnapshot?.index ?? 0) >= this.snapshotThreshold) {
            await this.takeSnapshot()
          }
        })
        if (this.applyQueue.length > 0) this.scheduleApply()
        break
      }
    }
    this.checkWaiters()
  }

  private scheduleApply(): void {
    if (this.applyScheduled) return
    this.applyScheduled = true
    void this.onLane(async () => {
      this.applyScheduled = false
      await this.applyEntries()
    })
  }

  private async applyEntries(): Promise<void> {
    while (this.applyQueue.length > 0 && (this.running || this.state === 'stopping')) {
      const batch = this.applyQueue
      this.applyQueue = []
      for (const entry of batch) {
        if (!(this.running || this.state === 'stopping')) return
        // Synchronous state machines are applied without yielding: callers resolved by one run
        // of applies propose again together, so their proposals share one append.
        const pending = this.applyEntry(entry)
        if (pending !== undefined) await pending
        if (entry.index - (this.lastSnapshot?.index ?? 0) >= this.snapshotThreshold) {
          await this.takeSnapshot()
        }
      }
      this.checkWaiters()
    }
  }

  /** Applies one entry; returns a promise only when the state machine's apply is asynchronous. */
  private applyEntry(entry: Entry): Promise<void> | undefined {
    if (entry.index <= this.lastApplied) return undefined
    let result: Result | Promise<Result> | undefined
    try {
      if (entry.type === 'normal') {
        // An entry is a Command (index, term, data): passed as is, without a copy per entry.
        result = this.components.stateMachine.apply(entry)
      } else if (entry.type === 'configuration') {
        this.applyConfiguration(entry)
      }
    } catch (error) {
      this.applyFailed(entry, error)
      return undefined
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => this.applied(entry, value),
        (error: unknown) => this.applyFailed(entry, error),
      )
    }
    this.applied(entry, result)
    return undefined
  }

  private applyFailed(entry: Entry, error: unknown): void {
    // A state machine that throws cannot be trusted to be identical to its replicas.
    this.fail(
      new StorageFailedError(
        `the state machine failed to apply entry ${entry.index}: ${String(error)}`,
      ),
    )
  }

  /** Records that `entry` is applied and settles whoever waits for it. */
  private applied(entry: Entry, result: Result | undefined): void {
    this.lastApplied = entry.index
    this.appliedTerm = entry.term
    this.proposals.applied(entry.index, entry.term, result)
  }

  private applyConfiguration(entry: Entry): void {
    const change = decodeConfigurationChange(entry.data)
    let next: Configuration
    try {
      next = applyConfigurationChange(this.appliedConfiguration, change)
    } catch {
      return // the core skipped it too
    }
    if (next === this.appliedConfiguration) return
    this.appliedConfiguration = next
    this.dispatch('configuration:change', { configuration: next, index: entry.index })
    if (change.type === 'promote') {
      this.dispatch('peer:caught-up', { id: change.node, index: entry.index })
    }
  }

  /** Streams the state machine into the snapshot store, then compacts the log behind it. */
  private async takeSnapshot(): Promise<void> {
    const raw = this.raw
    if (raw === undefined || this.lastApplied === 0) return
    if (this.lastSnapshot !== null && this.lastSnapshot.index >= this.lastApplied) return
    const { snapshotStore, stateMachine, logStore } = this.components
    const metadata: SnapshotMetadata = {
      index: this.lastApplied,
      term: this.appliedTerm,
      configuration: this.appliedConfiguration,
    }
    const sink = await snapshotStore.create(metadata)
    let stored: StoredSnapshot
    try {
      for await (const chunk of stateMachine.snapshot()) {
        await sink.write(chunk)
      }
      stored = await sink.close()
    } catch (error) {
      await sink.abort()
      this.logger.error('taking a snapshot failed; the log is not compacted', {
        error: String(error),
      })
      return
    }
    this.lastSnapshot = { index: metadata.index, term: metadata.term }
    const compactThrough = Math.max(
      0,
      Math.min(metadata.index - this.trailingLogs, raw.raft.log.stableIndex),
    )
    raw.snapshotTaken(metadata, Math.max(compactThrough, raw.raft.log.offset))
    if (compactThrough > 0) {
      try {
        await logStore.truncatePrefix(compactThrough)
      } catch (error) {
        this.fail(error)
        return
      }
    }
    this.logger.info('snapshot taken', { index: metadata.index, compactedThrough: compactThrough })
    this.dispatch('snapshot:taken', { snapshot: stored })
  }

  // ---------------------------------------------------------------------------------------
  // Waiting

  private checkWaiters(): void {
    this.waiters.check()
  }

  /** Resolves once `predicate` holds (checked after each Ready and apply batch). */
  private waitFor(predicate: () => boolean, what: string, options?: AbortOptions): Promise<void> {
    if (predicate()) return Promise.resolve()
    this.rawNode()
    return this.waiters.waitFor(predicate, what, options)
  }

  private sleep(milliseconds: number, options?: AbortOptions): Promise<void> {
    return sleep(this.clock, milliseconds, options)
  }

  // ---------------------------------------------------------------------------------------
  // Public operations

  /**
   * Replicates `data` and resolves with the state machine's result once it is applied here.
   * Throws `NotLeaderError` (with the leader to redirect to) on a follower. Proposals made in
   * the same turn of the event loop share one log append and one round of messages.
   */
  propose(data: Uint8Array, options?: AbortOptions): Promise<Result> {
    const raw = this.rawNode()
    if (raw.raft.role !== 'leader') {
      return Promise.reject(new NotLeaderError(raw.raft.leader, 'proposing'))
    }
    if (options?.signal?.aborted) {
      return Promise.reject(abortError(options.signal, 'the proposal'))
    }
    const limit = this.maxEntryBytes
    if (data.byteLength > limit) {
      // An entry larger than a message could never be replicated: refuse it up front.
      return Promise.reject(
        new ProposalDroppedError(
          `the proposal is ${data.byteLength} bytes, more than the ${limit} bytes an entry may have (maxBytesPerMessage); split it`,
        ),
      )
    }
    const signal = options?.signal
    return new Promise<Result>((resolve, reject) => {
      this.proposalQueue.push({
        data,
        term: 0,
        resolve: resolve as (result: Result | undefined) => void,
        reject,
        signal,
      })
      // The Ready loop appends everything queued at the start of its next turn: proposals that
      // arrive while it waits for the disk share one append and one round of messages.
      this.kick()
    })
  }

  private flushProposals(): void {
    let queue = this.proposalQueue
    this.proposalQueue = []
    // One pass to build the batch; a second only when some proposal was aborted meanwhile.
    let aborted = false
    const data: Uint8Array[] = new Array(queue.length)
    for (let offset = 0; offset < queue.length; offset++) {
      const queued = queue[offset] as QueuedProposal<Result>
      if (queued.signal?.aborted) aborted = true
      data[offset] = queued.data
    }
    if (aborted) {
      queue = queue.filter((queued) => {
        if (queued.signal?.aborted) {
          queued.reject(abortError(queued.signal, 'the proposal'))
          return false
        }
        return true
      })
      data.length = 0
      for (const queued of queue) data.push(queued.data)
    }
    if (queue.length === 0 || !this.running) return
    const raw = this.raw as RawNode
    let first: { index: number; term: number }
    try {
      first = raw.propose(data)
    } catch (error) {
      for (const queued of queue) queued.reject(error as Error)
      return
    }
    for (let offset = 0; offset < queue.length; offset++) {
      const queued = queue[offset] as QueuedProposal<Result>
      if (queued.signal === undefined) {
        // The hot path: the queued proposal itself waits for its entry, no wrapper per entry.
        queued.term = first.term
        this.proposals.wait(first.index + offset, queued)
      } else {
        this.proposals.register(
          first.index + offset,
          first.term,
          'the proposal',
          queued.signal,
          queued.resolve,
          queued.reject,
        )
      }
    }
    this.kick()
  }

  /**
   * Adds `id` as a voter: it joins as a staging member and the leader promotes it as soon as it
   * has caught up. Resolves once the addition is applied here (listen for `peer:caught-up`, or
   * use `waitForVoter`, to know when it votes). Adding a member that is already a voter or
   * staging changes nothing.
   */
  addVoter(id: NodeId, options?: AbortOptions): Promise<void> {
    return this.changeConfiguration({ type: 'add-voter', node: id }, options)
  }

  /** Adds `id` as a non-voting member that only receives the log. */
  addNonVoter(id: NodeId, options?: AbortOptions): Promise<void> {
    return this.changeConfiguration({ type: 'add-non-voter', node: id }, options)
  }

  /**
   * Removes `id`, whatever its role. Removing the leader makes it hand over leadership and step
   * down once the change commits. Removing an absent member changes nothing; removing the last
   * voter is refused.
   */
  async removeServer(id: NodeId, options?: AbortOptions): Promise<void> {
    const raft = this.rawNode().raft
    const voters = raft.configuration.voters
    if (id === this.id && raft.role === 'leader' && voters.length === 2 && voters.includes(id)) {
      // A two-voter cluster's leader may not remove itself (raft-core refuses: a crash at the
      // wrong moment would leave the other voter unelectable). Hand over first; the removal is
      // then the new leader's to make, and NotLeaderError names it.
      const successor = await this.transferLeadership(undefined, options)
      throw new NotLeaderError(
        successor,
        `removing ${id} (leadership was handed to ${successor} first)`,
      )
    }
    return this.changeConfiguration({ type: 'remove', node: id }, options)
  }

  private async changeConfiguration(
    change: ConfigurationChange,
    options?: AbortOptions,
  ): Promise<void> {
    for (;;) {
      const raw = this.rawNode()
      let proposed: { index: number; term: number } | null
      try {
        proposed = raw.proposeConfigurationChange(change)
      } catch (error) {
        if (error instanceof ConfigurationChangeInProgressError) {
          // One change at a time: wait for the one in flight, then try again.
          const applied = this.lastApplied
          await this.waitFor(
            () => this.lastApplied > applied || this.raw?.raft.role !== 'leader',
            'waiting for the configuration change in flight',
            options,
          )
          await this.sleep(0, options)
          continue
        }
        throw error
      }
      if (proposed === null) {
        return
      }
      this.kick()
      await this.proposals.track(
        proposed.index,
        proposed.term,
        'the configuration change',
        options?.signal,
      )
      return
    }
  }

  /**
   * Resolves once every entry committed before the call is applied here (hashicorp/raft's
   * Barrier): a no-op entry is replicated and waited for. Leader only.
   */
  async barrier(options?: AbortOptions): Promise<number> {
    const raw = this.rawNode()
    const { index, term } = raw.propose([new Uint8Array(0)], 'noop')
    this.kick()
    await this.proposals.track(index, term, 'the barrier', options?.signal)
    return index
  }

  /**
   * A linearizable read point (thesis §6.4): resolves with an index once this node has applied
   * at least it and a quorum confirmed the leader's authority. Reads from the state machine made
   * after that see every write that completed before `readIndex` was called. Works on
   * followers too (the leader is asked); retried across leader changes until `signal` aborts.
   */
  async readIndex(options?: AbortOptions): Promise<number> {
    const retryEvery = this.tickInterval * (this.raftOptions.electionTicks ?? 10)
    for (;;) {
      const raw = this.rawNode()
      if (raw.raft.leader === null) {
        await this.waitForLeader(options)
        continue
      }
      const context = `${this.id}/${++this.readCounter}`
      let readIndex: number | undefined
      const answered = new Promise<number>((resolve) => {
        this.reads.set(context, { resolve })
      })
      try {
        raw.readIndex(context)
        this.kick()
        readIndex = await Promise.race([
          answered,
          this.sleep(retryEvery, options).then(() => undefined),
        ])
      } catch (error) {
        if (!(error instanceof NotLeaderError)) throw error
      } finally {
        this.reads.delete(context)
      }
      if (readIndex === undefined) continue
      const target = readIndex
      await this.waitFor(() => this.lastApplied >= target, 'the read', options)
      return target
    }
  }

  /**
   * Resolves once the state machine here has applied `index` (a read-your-writes wait for a
   * follower that knows the index at which the leader applied an operation).
   */
  async waitForApplied(index: number, options?: AbortOptions): Promise<void> {
    await this.waitFor(
      () => this.lastApplied >= index,
      `waiting for index ${index} to be applied`,
      options,
    )
  }

  /** Resolves with the leader's id once one is known. */
  async waitForLeader(options?: AbortOptions): Promise<NodeId> {
    await this.waitFor(
      () => (this.raw?.raft.leader ?? null) !== null,
      'waiting for a leader',
      options,
    )
    return this.raw?.raft.leader as NodeId
  }

  /**
   * Resolves once this node is a voter and has applied everything the leader had committed when
   * asked (IPFS Cluster's WaitForSync, done right: the leader's commit index, not a local guess).
   */
  async waitForSync(options?: AbortOptions): Promise<void> {
    const voter = () => this.raw?.raft.configuration.voters.includes(this.id) === true
    // A voter again after the read point, too: a node catching up may be a voter in an old
    // configuration (a snapshot from before its removal) and only staging once it has applied
    // what the leader committed since.
    do {
      await this.waitFor(voter, 'waiting to become a voter', options)
      await this.readIndex(options)
    } while (!voter())
  }

  /**
   * Hands leadership to `to`, or to the most up-to-date voter (thesis §3.10). Resolves once this
   * node sees the new leader; rejects if the transfer does not finish within an election timeout.
   */
  async transferLeadership(to?: NodeId, options?: AbortOptions): Promise<NodeId> {
    const raw = this.rawNode()
    const raft = raw.raft
    if (raft.role !== 'leader') {
      throw new NotLeaderError(raft.leader, 'transferring leadership')
    }
    let target = to
    if (target === undefined) {
      let best = -1
      for (const id of raft.configuration.voters) {
        if (id === this.id) continue
        const match = raft.progress.get(id)?.match ?? 0
        if (match > best) {
          best = match
          target = id
        }
      }
    }
    if (target === undefined) {
      throw new LeadershipTransferError('there is no other voter to transfer leadership to')
    }
    const transferee = target
    raw.transferLeadership(transferee)
    this.kick()
    const deadline = new AbortController()
    const timeout = this.clock.setTimeout(
      () =>
        deadline.abort(
          new LeadershipTransferError(`${transferee} did not take over within an election timeout`),
        ),
      this.tickInterval * ((this.raftOptions.electionTicks ?? 10) + 2),
    )
    const onAbort = () => deadline.abort(options?.signal?.reason)
    options?.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await this.waitFor(() => this.raw?.raft.leader === transferee, 'the leadership transfer', {
        signal: deadline.signal,
      })
      return transferee
    } catch (error) {
      if (deadline.signal.reason instanceof LeadershipTransferError) throw deadline.signal.reason
      throw error
    } finally {
      this.clock.clearTimeout(timeout)
      options?.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Takes a snapshot now, if anything was applied since the last one; resolves when done. */
  async snapshot(options?: AbortOptions): Promise<{ index: number; term: number } | null> {
    this.rawNode()
    if (options?.signal?.aborted) throw abortError(options.signal, 'the snapshot')
    await this.onLane(() => this.takeSnapshot())
    return this.lastSnapshot
  }

  /**
   * Tells the node that `peer` cannot be reached (for example, its connection closed): a leader
   * stops pipelining to it, and a follower that loses its leader campaigns as soon as the
   * leader's lease has run out.
   */
  reportUnreachable(peer: NodeId): void {
    if (!this.running) return
    this.raw?.reportUnreachable(peer)
    this.kick()
  }

  /** This node's view of the cluster. */
  status(): NodeStatus {
    const raw = this.raw
    if (raw === undefined) {
      throw new NodeStoppedError('the node is not started: call start() first')
    }
    return {
      ...raw.status(),
      stateMachineIndex: this.lastApplied,
      lastSnapshot: this.lastSnapshot,
      state: this.state,
    }
  }

  get leader(): NodeId | null {
    return this.raw?.raft.leader ?? null
  }

  get role(): Role {
    return this.raw?.raft.role ?? 'follower'
  }

  /** The configuration in force at this node: the latest in its log, committed or not. */
  get configuration(): Configuration {
    return this.raw?.raft.configuration ?? emptyConfiguration
  }

  /** Highest index the state machine has applied. */
  get appliedIndex(): number {
    return this.lastApplied
  }
}

/** Creates a node (js-libp2p style factory). */
export function createRaftNode<Result = unknown>(
  components: RaftNodeComponents<Result>,
  init?: RaftNodeInit,
): RaftNode<Result> {
  return new RaftNode(components, init)
}
