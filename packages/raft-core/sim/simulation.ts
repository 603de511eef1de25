import { bootstrapState } from '../src/configuration/bootstrap.ts'
import { isMember, makeConfiguration } from '../src/configuration/configuration.ts'
import type { Message } from '../src/message.ts'
import type { ReadyPlan } from '../src/node/ready-plan.ts'
import { planReady } from '../src/node/ready-plan.ts'
import type { Ready } from '../src/raft/raw-node.ts'
import { RawNode } from '../src/raft/raw-node.ts'
import type { Configuration, Entry, HardState, NodeId, SnapshotMetadata } from '../src/types.ts'
import { seededRandom } from './random.ts'

/**
 * A seeded, deterministic simulation of a Raft cluster built from `RawNode`s, each driven the
 * way `RaftNode` drives it: one Ready at a time, planned by the same `planReady` (early sends,
 * then the log and hard-state writes, concurrent or in order, landing at different moments),
 * late sends once durable, and an apply lane that lags behind. Around it: an unreliable network
 * (loss, duplication, reordering, delay, partitions), crashes that lose everything not on disk,
 * including crashes that cut between a Ready's two writes, restarts, membership changes,
 * leadership transfers, ReadIndex reads and log compaction. After every step it checks Raft's
 * safety properties (paper §5.2-§5.4, Figure 3) and what a client is promised; at the end it
 * heals all faults and requires the cluster to elect a leader and commit again.
 */

export interface SimulationOptions {
  seed: number
  /** Simulated ticks of faults and load. */
  ticks?: number
  /** Nodes in the pool; the first `initialVoters` start as the cluster. */
  nodes?: number
  initialVoters?: number
  /** The next nodes of the pool start as non-voters of the cluster (learners). */
  initialNonVoters?: number
  /** Probabilities per message. */
  loss?: number
  /** Extra loss for messages a leader sends (entries reach only some followers). */
  leaderLoss?: number
  duplication?: number
  /** Most ticks a message may be delayed (delays reorder messages). */
  maxDelay?: number
  /** Probabilities per tick. */
  crash?: number
  /** Crash the leader (of the highest term) this tick. */
  leaderCrash?: number
  /** Crash a node whose Ready's writes are under way (some may have landed, others not). */
  cutCrash?: number
  partition?: number
  membershipChange?: number
  /** Share of the removals that remove the leader itself. */
  removeLeader?: number
  /** A newly elected leader tries a configuration change at once, with this probability. */
  changeAfterElection?: number
  transfer?: number
  compaction?: number
  /** Probability per tick that some node starts a ReadIndex read. */
  read?: number
  /** Most processing rounds a write takes to land (a tick has four); some take far longer. */
  maxWriteDelay?: number
  /** Probability that a write stalls for 10 to 30 ticks (a disk that hangs for a while). */
  writeStall?: number
  /**
   * Probability that a non-voter restarts with its stored term a few ahead (as if its disk came
   * from a later incarnation): harmless to safety, it makes the voters step down.
   */
  learnerTermJump?: number
  /** Shortest and longest time a crashed node stays down, in ticks. */
  downTicks?: readonly [number, number]
  /** Core options under test. */
  maxInflightMessages?: number
  maxEntriesPerMessage?: number
  /** Proposals refused beyond this many uncommitted entries (0: no limit). */
  maxUncommittedEntries?: number
  /** Ticks allowed, after healing, to elect a leader and commit. */
  recoveryTicks?: number
  /**
   * How a Ready's writes and sends are ordered: `planReady`, what `RaftNode` runs. Tests pass a
   * deliberately broken plan to show the checker notices.
   */
  plan?: (ready: Ready, saved: HardState | undefined) => ReadyPlan
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation'
  readonly property: string
  constructor(property: string, detail: string) {
    super(`${property}: ${detail}`)
    this.property = property
  }
}

export interface SimulationResult {
  seed: number
  ticks: number
  elections: number
  committed: number
  crashes: number
  /** Crashes that left a Ready's entries durable but not its hard state, and the reverse. */
  cutsEntriesOnly: number
  cutsHardStateOnly: number
  partitions: number
  membershipChanges: number
  transfers: number
  snapshotsInstalled: number
  messagesDelivered: number
  /** Proposals acknowledged to their client (applied on the leader that took them). */
  acknowledged: number
  /** ReadIndex reads served, each checked against the writes acknowledged before it. */
  reads: number
}

interface StoredSnapshot {
  metadata: SnapshotMetadata
  state: MachineState
}

interface Disk {
  hardState: HardState | undefined
  entries: Entry[]
  /** The newest snapshot stored, which a restart restores (a snapshot store's `list()[0]`). */
  snapshot: StoredSnapshot | undefined
  /** Every snapshot received, as a snapshot store retains several. */
  received: StoredSnapshot[]
}

/** The simulated state machine: a fold of every applied command, and how many there were. */
interface MachineState {
  hash: number
  count: number
}

/** One write of a Ready on its way to the disk. */
interface PendingWrite {
  readonly kind: 'entries' | 'hard-state'
  /** The processing round from which it may land. */
  readonly due: number
  /** A write that must land first (a new term before entries of it). */
  readonly after: PendingWrite | undefined
  done: boolean
  readonly land: () => void
}

/** The Ready a node is working on, between `ready()` and `advance()`. */
interface Outstanding {
  readonly ready: Ready
  readonly plan: ReadyPlan
  readonly writes: PendingWrite[]
}

interface PendingRead {
  readonly context: string
  /** The highest index of a proposal acknowledged to a client before the read started. */
  readonly mustSee: number
  index: number | undefined
}

interface SimNode {
  readonly id: NodeId
  readonly disk: Disk
  raw: RawNode | undefined
  machine: MachineState
  /** Highest index applied by the state machine in this incarnation. */
  applied: number
  /** The hard state known durable (RaftNode's `savedHardState`). */
  saved: HardState | undefined
  outstanding: Outstanding | undefined
  /** Entries handed out by the core, waiting for the apply lane. */
  applyQueue: Entry[]
  /** Proposals this node took as leader, by index, waiting to be acknowledged. */
  proposals: Map<number, number>
  reads: PendingRead[]
  crashedUntil: number
  // Values seen last step, for the monotonicity checks within one incarnation.
  lastTerm: number
  lastCommit: number
  leaderLastIndex: number
  /** The term this incarnation was last recorded as elected in (0: none). */
  electedTerm: number
}

interface InFlight {
  readonly message: Message
  readonly due: number
  readonly order: number
  /** A snapshot message carries the sender's snapshot data with it. */
  readonly snapshot: { metadata: SnapshotMetadata; state: MachineState } | undefined
}

function fold(state: MachineState, entry: Entry): MachineState {
  let hash = state.hash ^ entry.index
  for (const byte of entry.data) hash = Math.imul(hash ^ byte, 16777619) >>> 0
  return { hash: Math.imul(hash, 2654435761) >>> 0, count: state.count + 1 }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

function describeConfiguration(configuration: Configuration): string {
  return `voters [${configuration.voters}] staging [${configuration.staging}] non-voters [${configuration.nonVoters}]`
}

/** Whether `disk` holds the entry (index, term), itself or inside its snapshot. */
function holds(disk: Disk, index: number, term: number): boolean {
  if (disk.snapshot !== undefined && index <= disk.snapshot.metadata.index) return true
  const first = disk.entries[0]
  if (first === undefined) return false
  return disk.entries[index - first.index]?.term === term
}

export class Simulation {
  readonly options: Required<Omit<SimulationOptions, 'plan'>>
  private readonly plan: (ready: Ready, saved: HardState | undefined) => ReadyPlan
  private readonly random: () => number
  private readonly nodes = new Map<NodeId, SimNode>()
  private inFlight: InFlight[] = []
  private now = 0
  /** Processing rounds so far (four a tick): the clock writes land by. */
  private round = 0
  private readonly cut = new Set<string>()
  private partitionUntil = 0
  private proposalCounter = 0
  private readCounter = 0
  private recovering = false

  // Global history for the safety checks.
  /** term → the one leader elected in it (Election Safety). */
  private readonly leaders = new Map<number, NodeId>()
  /** index → the entry applied there by anyone (State Machine Safety). */
  private readonly applied = new Map<number, { term: number; data: Uint8Array }>()
  /** "index/term" → the data and the term of the previous entry (Log Matching). */
  private readonly logRegistry = new Map<string, { data: Uint8Array; previousTerm: number }>()
  /** commit index → the configuration in force there, as the first node to commit it saw it. */
  private readonly committedConfigurations = new Map<number, string>()
  /** Proposals acknowledged to a client: index → term. */
  private readonly acknowledged = new Map<number, number>()
  private highestAcknowledged = 0
  /** The highest commit index any node reached. */
  private highestCommitted = 0
  private readonly stats: SimulationResult

  constructor(options: SimulationOptions) {
    const { plan, ...rest } = options
    this.options = {
      ticks: 400,
      nodes: 5,
      initialVoters: 3,
      initialNonVoters: 0,
      loss: 0.05,
      leaderLoss: 0,
      duplication: 0.02,
      maxDelay: 3,
      crash: 0.01,
      leaderCrash: 0,
      cutCrash: 0.01,
      partition: 0.01,
      membershipChange: 0.01,
      removeLeader: 0.1,
      changeAfterElection: 0,
      transfer: 0.005,
      compaction: 0.02,
      read: 0.1,
      maxWriteDelay: 3,
      learnerTermJump: 0,
      writeStall: 0.002,
      downTicks: [5, 45],
      maxInflightMessages: 256,
      maxEntriesPerMessage: 64,
      maxUncommittedEntries: 0,
      recoveryTicks: 300,
      ...rest,
    }
    this.plan = plan ?? planReady
    this.random = seededRandom(options.seed)
    this.stats = {
      seed: options.seed,
      ticks: 0,
      elections: 0,
      committed: 0,
      crashes: 0,
      cutsEntriesOnly: 0,
      cutsHardStateOnly: 0,
      partitions: 0,
      membershipChanges: 0,
      transfers: 0,
      snapshotsInstalled: 0,
      messagesDelivered: 0,
      acknowledged: 0,
      reads: 0,
    }
  }

  private chance(p: number): boolean {
    return this.random() < p
  }

  private pick<T>(items: readonly T[]): T | undefined {
    if (items.length === 0) return undefined
    return items[Math.floor(this.random() * items.length)]
  }

  run(): SimulationResult {
    const ids = Array.from({ length: this.options.nodes }, (_, i) => `n${i + 1}`)
    const voters = ids.slice(0, this.options.initialVoters)
    const nonVoters = ids.slice(voters.length, voters.length + this.options.initialNonVoters)
    const initial = bootstrapState(makeConfiguration({ voters, nonVoters }))
    for (const id of ids) {
      const member = voters.includes(id) || nonVoters.includes(id)
      const disk: Disk = member
        ? {
            hardState: initial.hardState,
            entries: [...initial.entries],
            snapshot: undefined,
            received: [],
          }
        : { hardState: undefined, entries: [], snapshot: undefined, received: [] }
      const node: SimNode = {
        id,
        disk,
        raw: undefined,
        machine: { hash: 0, count: 0 },
        applied: 0,
        saved: undefined,
        outstanding: undefined,
        applyQueue: [],
        proposals: new Map(),
        reads: [],
        crashedUntil: 0,
        lastTerm: 0,
        lastCommit: 0,
        leaderLastIndex: 0,
        electedTerm: 0,
      }
      this.nodes.set(id, node)
      this.boot(node)
      if (member) {
        this.registerEntries(node, initial.entries, 0)
      }
    }

    for (; this.now < this.options.ticks; this.now++) {
      this.injectFaults()
      this.clientRequests()
      this.tick()
    }
    this.heal()
    const recovered = this.recover()
    if (!recovered) {
      throw new InvariantViolation(
        'Liveness after healing',
        `no leader committed a new entry on every live voter within ${this.options.recoveryTicks} ticks of healing all faults\n${this.describe()}`,
      )
    }
    this.checkAcknowledgedSurvived()
    this.stats.ticks = this.now
    this.stats.committed = this.applied.size
    return this.stats
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  private boot(node: SimNode): void {
    const snapshot = node.disk.snapshot
    try {
      node.raw = new RawNode(
        node.id,
        {
          hardState: node.disk.hardState,
          snapshot: snapshot?.metadata,
          entries: node.disk.entries,
        },
        {
          random: seededRandom(Math.floor(this.random() * 2 ** 31)),
          electionTicks: 10,
          heartbeatTicks: 1,
          maxInflightMessages: this.options.maxInflightMessages,
          maxEntriesPerMessage: this.options.maxEntriesPerMessage,
          maxUncommittedEntries: this.options.maxUncommittedEntries,
        },
      )
    } catch (error) {
      // What a driver would refuse to start on: the disk contradicts itself.
      throw new InvariantViolation(
        'Loadable disk',
        `${node.id} cannot start from its disk: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
    node.saved = node.disk.hardState
    node.outstanding = undefined
    node.applyQueue = []
    node.proposals = new Map()
    node.reads = []
    node.machine = snapshot?.state ?? { hash: 0, count: 0 }
    node.applied = snapshot?.metadata.index ?? 0
    node.lastTerm = node.raw.raft.term
    node.lastCommit = node.raw.raft.log.committed
    node.leaderLastIndex = 0
    node.electedTerm = 0
  }

  private jumpLearnerTerm(node: SimNode): void {
    const hardState = node.disk.hardState
    if (hardState === undefined || !this.chance(this.options.learnerTermJump)) return
    const configuration = this.highestLeader()?.raw?.raft.configuration
    if (configuration === undefined || !configuration.nonVoters.includes(node.id)) return
    node.disk.hardState = {
      term: hardState.term + 1 + Math.floor(this.random() * 4),
      vote: null,
      commit: hardState.commit,
    }
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.raw !== undefined)
  }

  private crash(node: SimNode): void {
    // Everything not on disk is lost: the RawNode, unstable entries, writes still under way,
    // queued messages, entries waiting to be applied, reads and proposals waiting for answers.
    const writes = node.outstanding?.writes ?? []
    const landed = (kind: PendingWrite['kind']) => writes.find((write) => write.kind === kind)?.done
    if (landed('entries') === true && landed('hard-state') === false) this.stats.cutsEntriesOnly++
    if (landed('hard-state') === true && landed('entries') === false) this.stats.cutsHardStateOnly++
    node.raw = undefined
    node.outstanding = undefined
    const [shortest, longest] = this.options.downTicks
    node.crashedUntil = this.now + shortest + Math.floor(this.random() * (longest - shortest + 1))
    this.stats.crashes++
    // Its connections close: the others' transports tell them, as libp2p's peer:disconnect does.
    for (const other of this.live()) {
      if (this.chance(0.7)) other.raw?.reportUnreachable(node.id)
    }
  }

  // -------------------------------------------------------------------------------------------
  // Faults and load

  private injectFaults(): void {
    for (const node of this.nodes.values()) {
      if (node.raw === undefined && node.crashedUntil <= this.now) {
        this.jumpLearnerTerm(node)
        this.boot(node)
      }
    }
    let live = this.live()
    // Keep a majority of the pool alive most of the time, so the run makes progress too.
    const mayCrash = () => live.length > Math.ceil(this.options.nodes / 2)
    if (this.chance(this.options.crash) && mayCrash()) {
      const victim = this.pick(live)
      if (victim !== undefined) this.crash(victim)
      live = this.live()
    }
    if (this.chance(this.options.leaderCrash) && mayCrash()) {
      const victim = this.highestLeader()
      if (victim !== undefined) this.crash(victim)
      live = this.live()
    }
    if (this.chance(this.options.cutCrash) && mayCrash()) {
      const victim = this.pick(live.filter((node) => node.outstanding !== undefined))
      if (victim !== undefined) this.crash(victim)
    }
    if (this.cut.size > 0 && this.now >= this.partitionUntil) {
      this.cut.clear()
    }
    if (this.cut.size === 0 && this.chance(this.options.partition)) {
      const ids = [...this.nodes.keys()]
      const side = new Set(ids.filter(() => this.random() < 0.5))
      for (const a of ids) {
        for (const b of ids) {
          if (a < b && side.has(a) !== side.has(b)) this.cut.add(`${a}|${b}`)
        }
      }
      this.partitionUntil = this.now + 10 + Math.floor(this.random() * 60)
      this.stats.partitions++
      for (const link of this.cut) {
        const [a, b] = link.split('|') as [NodeId, NodeId]
        if (this.chance(0.7)) this.nodes.get(a)?.raw?.reportUnreachable(b)
        if (this.chance(0.7)) this.nodes.get(b)?.raw?.reportUnreachable(a)
      }
    }
  }

  private leaderNodes(): SimNode[] {
    return this.live().filter((node) => node.raw?.raft.role === 'leader')
  }

  private highestLeader(): SimNode | undefined {
    return this.leaderNodes().sort((a, b) => (b.raw?.raft.term ?? 0) - (a.raw?.raft.term ?? 0))[0]
  }

  private clientRequests(): void {
    for (const leader of this.leaderNodes()) {
      if (this.chance(0.5)) this.propose(leader)
      if (this.chance(this.options.membershipChange)) {
        this.changeMembership(leader)
      }
      const raw = leader.raw as RawNode
      if (this.chance(this.options.transfer)) {
        const target = this.pick(raw.raft.configuration.voters.filter((id) => id !== leader.id))
        if (target !== undefined) {
          try {
            raw.transferLeadership(target)
            this.stats.transfers++
          } catch {
            // No replication state for it yet: fine.
          }
        }
      }
    }
    if (this.chance(this.options.read)) {
      const reader = this.pick(this.live())
      if (reader !== undefined) this.startRead(reader)
    }
    for (const node of this.live()) {
      if (this.chance(this.options.compaction)) {
        this.compact(node)
      }
    }
  }

  /** A client's proposal, acknowledged once the leader applies it (as `RaftNode.propose`). */
  private propose(leader: SimNode): void {
    const raw = leader.raw as RawNode
    const count = 1 + Math.floor(this.random() * 3)
    const data = Array.from({ length: count }, () => {
      this.proposalCounter++
      return new Uint8Array([this.proposalCounter & 255, (this.proposalCounter >> 8) & 255, 7])
    })
    try {
      const { index, term } = raw.propose(data)
      for (let offset = 0; offset < count; offset++) leader.proposals.set(index + offset, term)
    } catch {
      // Dropped during a transfer or a removal: fine.
    }
  }

  /** A ReadIndex read (as `RaftNode.readIndex`), on a leader or a follower. */
  private startRead(node: SimNode): void {
    const context = `${node.id}/${++this.readCounter}`
    try {
      node.raw?.readIndex(context)
    } catch {
      return // no leader known
    }
    node.reads.push({ context, mustSee: this.highestAcknowledged, index: undefined })
  }

  private changeMembership(leader: SimNode): void {
    const raw = leader.raw as RawNode
    const configuration = raw.raft.configuration
    const ids = [...this.nodes.keys()]
    const outside = ids.filter((id) => !isMember(configuration, id))
    const removable = [
      ...configuration.voters,
      ...configuration.staging,
      ...configuration.nonVoters,
    ]
    try {
      if (this.chance(this.options.removeLeader) && configuration.voters.length > 2) {
        raw.proposeConfigurationChange({ type: 'remove', node: leader.id })
      } else if (outside.length > 0 && (this.chance(0.6) || configuration.voters.length <= 2)) {
        const id = this.pick(outside) as NodeId
        raw.proposeConfigurationChange({
          type: this.chance(0.8) ? 'add-voter' : 'add-non-voter',
          node: id,
        })
      } else {
        const id = this.pick(removable) as NodeId
        raw.proposeConfigurationChange({ type: 'remove', node: id })
      }
      this.stats.membershipChanges++
    } catch {
      // In progress, or refused (the last voter): both are fine here.
    }
  }

  /**
   * Takes a snapshot at the applied index and compacts the log behind it, keeping a few entries
   * (as `RaftNode` does on its apply lane, while a Ready may be under way).
   */
  private compact(node: SimNode): void {
    const raw = node.raw as RawNode
    const index = node.applied
    if (index === 0 || (node.disk.snapshot?.metadata.index ?? 0) >= index) return
    if (index > raw.raft.log.applied || index < raw.raft.log.offset) return
    const term = raw.raft.log.term(index)
    if (term === undefined) return
    const metadata: SnapshotMetadata = {
      index,
      term,
      configuration: raw.raft.log.configurations.at(index),
    }
    const trailing = Math.floor(this.random() * 5)
    const through = Math.max(0, Math.min(index - trailing, raw.raft.log.stableIndex))
    node.disk.snapshot = { metadata, state: node.machine }
    node.disk.received.push(node.disk.snapshot)
    raw.snapshotTaken(metadata, Math.max(through, raw.raft.log.offset))
    node.disk.entries = node.disk.entries.filter((entry) => entry.index > through)
  }

  // -------------------------------------------------------------------------------------------
  // Time and messages

  private tick(): void {
    for (const node of this.live()) node.raw?.tick()
    this.checkStep()
    // Let work settle within the tick: Readys, writes, applies, deliveries, a few rounds.
    for (let round = 0; round < 4; round++) {
      this.round++
      for (const node of this.shuffled(this.live())) {
        this.process(node)
      }
      this.deliverDue()
      if (round === 1 && !this.recovering && this.chance(0.3)) {
        // Clients do not wait for ticks: proposals also arrive while Readys are under way.
        for (const leader of this.leaderNodes()) this.propose(leader)
      }
    }
  }

  private shuffled<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1))
      const a = items[i] as T
      items[i] = items[j] as T
      items[j] = a
    }
    return items
  }

  private reachable(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(from < to ? `${from}|${to}` : `${to}|${from}`)
  }

  /** Hands `messages` to the network; none may carry a term `sender` has not made durable. */
  private send(messages: readonly Message[], sender: SimNode): void {
    const durableTerm = sender.saved?.term ?? 0
    for (const message of messages) {
      // A pre-vote names the term it would start, without entering it (thesis §9.6).
      if (
        message.type !== 'pre-vote' &&
        message.type !== 'pre-vote-response' &&
        message.term > durableTerm
      ) {
        throw new InvariantViolation(
          'Durable before send',
          `${sender.id} sent ${message.type} of term ${message.term} to ${message.to} while its durable term is ${durableTerm}`,
        )
      }
      this.enqueue(message, sender)
    }
  }

  private enqueue(message: Message, sender: SimNode): void {
    const loss =
      this.options.loss + (sender.raw?.raft.role === 'leader' ? this.options.leaderLoss : 0)
    if (this.chance(loss)) {
      // A transport always tells the leader how a snapshot transfer ended.
      if (message.type === 'snapshot') sender.raw?.reportSnapshot(message.to, 'failed')
      return
    }
    const copies = this.chance(this.options.duplication) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({
        message,
        due: this.now + Math.floor(this.random() * (this.options.maxDelay + 1)),
        order: this.random(),
        snapshot:
          message.type === 'snapshot'
            ? this.storedSnapshot(sender.disk, message.snapshot)
            : undefined,
      })
    }
  }

  private deliverDue(): void {
    const due = this.inFlight.filter((flight) => flight.due <= this.now)
    this.inFlight = this.inFlight.filter((flight) => flight.due > this.now)
    due.sort((a, b) => a.order - b.order)
    for (const flight of due) {
      const message = flight.message
      const target = this.nodes.get(message.to)
      const sender = this.nodes.get(message.from)
      const delivered = target?.raw !== undefined && this.reachable(message.from, message.to)
      if (message.type === 'snapshot') {
        // The transport streams the data first; the sender learns whether it arrived.
        if (
          delivered &&
          flight.snapshot !== undefined &&
          flight.snapshot.metadata.index === message.snapshot.index
        ) {
          // Stored before the node sees the message, even if the node then ignores it (a stale
          // leader's snapshot is still committed state).
          const disk = (target as SimNode).disk
          disk.received.push(flight.snapshot)
          if ((disk.snapshot?.metadata.index ?? 0) < flight.snapshot.metadata.index) {
            disk.snapshot = flight.snapshot
          }
          sender?.raw?.reportSnapshot(message.to, 'finished')
        } else {
          sender?.raw?.reportSnapshot(message.to, 'failed')
          continue
        }
      }
      if (!delivered) {
        if (sender?.raw !== undefined && message.type === 'append')
          sender.raw.reportUnreachable(message.to)
        continue
      }
      this.stats.messagesDelivered++
      // The core takes messages while a Ready is under way, as RaftNode's does.
      target.raw?.step(message)
      this.checkStep()
    }
  }

  // -------------------------------------------------------------------------------------------
  // The driver: RaftNode's order of work

  /** One processing round of one node: writes that land, Readys that finish or start, applies. */
  private process(node: SimNode): void {
    for (let guard = 0; guard < 10 && node.raw !== undefined; guard++) {
      if (node.outstanding !== undefined) {
        this.landWrites(node)
        if (node.outstanding.writes.some((write) => !write.done)) break
        this.finishReady(node, node.outstanding)
        if (node.raw === undefined) return
      }
      if (!node.raw.hasReady()) break
      this.startReady(node)
    }
    if (node.raw !== undefined) {
      this.applyLane(node)
      this.serveReads(node)
    }
  }

  /** Pulls a Ready, sends what may leave early and issues its writes (RaftNode.handleReady). */
  private startReady(node: SimNode): void {
    const raw = node.raw as RawNode
    const ready = raw.ready()
    if (!this.recovering && this.chance(0.002)) {
      // Crash with this Ready pulled and nothing of it done.
      this.crash(node)
      return
    }
    if (ready.snapshot !== undefined) this.installSnapshot(node, ready.snapshot)
    const plan = this.plan(ready, node.saved)
    this.send(plan.early, node)
    const writes: PendingWrite[] = []
    const hardState = plan.hardState
    let hardStateWrite: PendingWrite | undefined
    if (hardState !== undefined) {
      hardStateWrite = {
        kind: 'hard-state',
        due: this.writeDue(),
        after: undefined,
        done: false,
        land: () => this.writeHardState(node, hardState),
      }
      writes.push(hardStateWrite)
    }
    const entries = plan.entries
    const first = entries[0]
    if (first !== undefined) {
      this.checkLeaderAppendOnly(node, entries)
      // The entry these follow in the log they were appended to (-1: compacted, unknown).
      const previousTerm = raw.raft.log.term(first.index - 1) ?? -1
      writes.push({
        kind: 'entries',
        due: this.writeDue(),
        after: plan.hardStateFirst ? hardStateWrite : undefined,
        done: false,
        land: () => this.writeEntries(node, entries, previousTerm),
      })
    }
    node.outstanding = { ready, plan, writes }
  }

  /** When a write lands: mostly within a round or three, sometimes a slow disk, rarely a stall. */
  private writeDue(): number {
    let slow = this.chance(0.05) ? 4 + Math.floor(this.random() * 12) : 0
    if (!this.recovering && this.chance(this.options.writeStall)) {
      slow = 4 * (10 + Math.floor(this.random() * 21))
    }
    return this.round + Math.floor(this.random() * (this.options.maxWriteDelay + 1)) + slow
  }

  private landWrites(node: SimNode): void {
    const outstanding = node.outstanding as Outstanding
    for (const write of outstanding.writes) {
      if (write.done || write.due > this.round) continue
      if (write.after !== undefined && !write.after.done) continue
      write.land()
      write.done = true
      this.checkDisk(node)
    }
  }

  /** Every write is durable: send the rest, hand out committed entries, advance. */
  private finishReady(node: SimNode, outstanding: Outstanding): void {
    const raw = node.raw as RawNode
    const { ready, plan } = outstanding
    node.outstanding = undefined
    this.send(plan.late, node)
    for (const entry of ready.committedEntries) node.applyQueue.push(entry)
    for (const read of ready.readStates) {
      const pending = node.reads.find((candidate) => candidate.context === read.context)
      if (pending === undefined) continue
      if (read.index < pending.mustSee) {
        throw new InvariantViolation(
          'Linearizable ReadIndex',
          `${node.id}'s read ${read.context} got index ${read.index}, but the write at ${pending.mustSee} was acknowledged before the read started`,
        )
      }
      pending.index = read.index
    }
    raw.advance(ready)
    this.checkStep()
  }

  private installSnapshot(node: SimNode, snapshot: SnapshotMetadata): void {
    const disk = node.disk
    const stored = this.storedSnapshot(disk, snapshot)
    if (stored === undefined) {
      throw new InvariantViolation(
        'Snapshot install',
        `${node.id} was told to install a snapshot it never received`,
      )
    }
    // RaftNode restores on the apply lane, after what was handed out before; those entries are
    // all covered by the snapshot, which replaces the state machine.
    if ((disk.snapshot?.metadata.index ?? 0) < stored.metadata.index) disk.snapshot = stored
    node.applyQueue = []
    node.machine = stored.state
    node.applied = snapshot.index
    disk.entries = []
    this.stats.snapshotsInstalled++
  }

  private checkLeaderAppendOnly(node: SimNode, entries: readonly Entry[]): void {
    const raw = node.raw as RawNode
    const first = entries[0] as Entry
    if (raw.raft.role !== 'leader' || raw.raft.term !== first.term) return
    const disk = node.disk
    const lastPersisted = disk.entries[disk.entries.length - 1]?.index ?? 0
    if (
      first.index <= lastPersisted &&
      disk.entries.some((e) => e.index >= first.index && e.term === raw.raft.term)
    ) {
      throw new InvariantViolation(
        'Leader Append-Only',
        `leader ${node.id} of term ${raw.raft.term} overwrote its own entries from ${first.index}`,
      )
    }
  }

  private writeEntries(node: SimNode, entries: readonly Entry[], previousTerm: number): void {
    const disk = node.disk
    const first = entries[0] as Entry
    this.registerEntries(node, entries, previousTerm)
    disk.entries = disk.entries.filter((entry) => entry.index < first.index)
    const last = disk.entries[disk.entries.length - 1]
    if (last !== undefined && last.index !== first.index - 1) {
      // The log was emptied by a snapshot and starts again after it.
      disk.entries = []
    }
    disk.entries.push(...entries)
  }

  private writeHardState(node: SimNode, hardState: HardState): void {
    const previous = node.disk.hardState
    if (previous !== undefined && hardState.term < previous.term) {
      throw new InvariantViolation(
        'Monotonic term',
        `${node.id} persisted term ${hardState.term} after ${previous.term}`,
      )
    }
    if (
      previous !== undefined &&
      hardState.term === previous.term &&
      previous.vote !== null &&
      hardState.vote !== previous.vote
    ) {
      throw new InvariantViolation(
        'One vote per term',
        `${node.id} voted for ${previous.vote} and then ${hardState.vote} in term ${previous.term}`,
      )
    }
    node.disk.hardState = hardState
    node.saved = hardState
  }

  /**
   * What a crash at this instant would leave must be safe to start from: the stored commit
   * index within the stored log (else a lost suffix), and no stored entry of a term newer than
   * the stored term (a node back in an older term could lead it and append behind them).
   */
  private checkDisk(node: SimNode): void {
    const disk = node.disk
    const hardState = disk.hardState
    if (hardState === undefined) return
    const lastIndex = Math.max(
      disk.entries[disk.entries.length - 1]?.index ?? 0,
      disk.snapshot?.metadata.index ?? 0,
    )
    if (hardState.commit > lastIndex) {
      throw new InvariantViolation(
        'Durable commit index',
        `${node.id} stored commit index ${hardState.commit} past its last stored entry ${lastIndex}`,
      )
    }
    const last = disk.entries[disk.entries.length - 1]
    if (last !== undefined && last.term > hardState.term) {
      throw new InvariantViolation(
        'Stored term covers stored entries',
        `${node.id} stored entry ${last.index} of term ${last.term} while its stored term is ${hardState.term}`,
      )
    }
  }

  /** The apply lane: lags behind, applies in order, acknowledges the leader's clients. */
  private applyLane(node: SimNode): void {
    const queue = node.applyQueue
    if (queue.length === 0) return
    const count = this.chance(0.6) ? queue.length : Math.floor(this.random() * (queue.length + 1))
    for (const entry of queue.splice(0, count)) this.apply(node, entry)
  }

  private apply(node: SimNode, entry: Entry): void {
    if (entry.index <= node.applied) return
    if (entry.index !== node.applied + 1) {
      throw new InvariantViolation(
        'Applied in order',
        `${node.id} applied ${entry.index} after ${node.applied}`,
      )
    }
    const known = this.applied.get(entry.index)
    if (known === undefined) {
      this.applied.set(entry.index, { term: entry.term, data: entry.data })
    } else if (known.term !== entry.term || !sameBytes(known.data, entry.data)) {
      throw new InvariantViolation(
        'State Machine Safety',
        `${node.id} applied term ${entry.term} at index ${entry.index}, another node applied term ${known.term}`,
      )
    }
    node.machine = fold(node.machine, entry)
    node.applied = entry.index
    const proposed = node.proposals.get(entry.index)
    if (proposed !== undefined) {
      node.proposals.delete(entry.index)
      // RaftNode resolves the proposal only if its own entry is the one applied there.
      if (proposed === entry.term) {
        this.acknowledged.set(entry.index, entry.term)
        this.highestAcknowledged = Math.max(this.highestAcknowledged, entry.index)
        this.stats.acknowledged++
      }
    }
  }

  /** A read answers once its index is applied: the state it sees is `node.applied`. */
  private serveReads(node: SimNode): void {
    if (node.reads.length === 0) return
    node.reads = node.reads.filter((read) => {
      if (read.index === undefined || read.index > node.applied) return true
      if (node.applied < read.mustSee) {
        throw new InvariantViolation(
          'Linearizable ReadIndex',
          `${node.id}'s read ${read.context} saw state ${node.applied}, older than the write at ${read.mustSee} acknowledged before it started`,
        )
      }
      this.stats.reads++
      return false
    })
  }

  /** The stored snapshot `metadata` names, as a snapshot store's `list()` finds it. */
  private storedSnapshot(disk: Disk, metadata: SnapshotMetadata): StoredSnapshot | undefined {
    return [disk.snapshot, ...disk.received].find(
      (candidate) =>
        candidate?.metadata.index === metadata.index && candidate.metadata.term === metadata.term,
    )
  }

  /** Log Matching (paper §5.3): an (index, term) pair names one entry, with one predecessor. */
  private registerEntries(
    node: SimNode,
    entries: readonly Entry[],
    firstPreviousTerm: number,
  ): void {
    let previousTerm = firstPreviousTerm
    for (const entry of entries) {
      const key = `${entry.index}/${entry.term}`
      const known = this.logRegistry.get(key)
      if (known === undefined) {
        this.logRegistry.set(key, { data: entry.data, previousTerm })
      } else {
        if (!sameBytes(known.data, entry.data)) {
          throw new InvariantViolation(
            'Log Matching',
            `${node.id} holds a different entry at ${key}`,
          )
        }
        if (
          previousTerm !== -1 &&
          known.previousTerm !== -1 &&
          known.previousTerm !== previousTerm
        ) {
          throw new InvariantViolation(
            'Log Matching',
            `${node.id}'s entry ${key} follows term ${previousTerm}, another log's follows term ${known.previousTerm}`,
          )
        }
      }
      previousTerm = entry.term
    }
  }

  /**
   * Election Safety (§5.2) and Leader Completeness (§5.4) when a node's leadership becomes real:
   * once its term and its vote for itself are durable. Before that it can send nothing (see
   * `send`), and a crash erases it: the node may then vote for another candidate of that term.
   */
  private onLeader(node: SimNode): void {
    const raw = node.raw as RawNode
    const term = raw.raft.term
    const existing = this.leaders.get(term)
    if (existing !== undefined && existing !== node.id) {
      throw new InvariantViolation(
        'Election Safety',
        `${existing} and ${node.id} were both elected in term ${term}`,
      )
    }
    if (existing === undefined) {
      this.stats.elections++
      if (!this.recovering && this.chance(this.options.changeAfterElection)) {
        // A new leader's first configuration change: it must wait for its first entry to commit.
        this.changeMembership(node)
      }
    }
    this.leaders.set(term, node.id)
    node.electedTerm = term
    const log = raw.raft.log
    for (const [index, entry] of this.applied) {
      if (index <= log.offset) continue
      if (log.term(index) !== entry.term) {
        throw new InvariantViolation(
          'Leader Completeness',
          `${node.id}, leader of term ${term}, lacks committed entry ${index} (term ${entry.term})`,
        )
      }
    }
  }

  /** Checks that hold after every step, for every live node. */
  private checkStep(): void {
    for (const node of this.live()) {
      const raw = node.raw as RawNode
      const raft = raw.raft
      if (raft.term < node.lastTerm) {
        throw new InvariantViolation(
          'Monotonic term',
          `${node.id}'s term went from ${node.lastTerm} to ${raft.term}`,
        )
      }
      if (raft.log.committed < node.lastCommit) {
        throw new InvariantViolation(
          'Monotonic commit',
          `${node.id}'s commit index went from ${node.lastCommit} to ${raft.log.committed}`,
        )
      }
      if (raft.log.committed > node.lastCommit) {
        if (raft.role === 'leader') this.checkCommitDurable(node, node.lastCommit)
        this.checkCommittedConfiguration(node)
        this.highestCommitted = Math.max(this.highestCommitted, raft.log.committed)
      }
      node.lastTerm = raft.term
      node.lastCommit = raft.log.committed
      if (raft.role === 'leader') {
        if (
          node.electedTerm !== raft.term &&
          node.saved?.term === raft.term &&
          node.saved.vote === node.id
        ) {
          this.onLeader(node)
        }
        if (node.leaderLastIndex === 0) node.leaderLastIndex = raft.log.lastIndex()
        if (raft.log.lastIndex() < node.leaderLastIndex) {
          throw new InvariantViolation(
            'Leader Append-Only',
            `leader ${node.id}'s log shrank from ${node.leaderLastIndex} to ${raft.log.lastIndex()}`,
          )
        }
        node.leaderLastIndex = raft.log.lastIndex()
        this.checkOneChangeInFlight(node)
      } else {
        node.leaderLastIndex = 0
      }
    }
  }

  /**
   * Durability (thesis §3.8): a leader commits an entry only once a majority of its voters hold
   * it on disk, itself included, so no crash of a minority can lose it.
   */
  private checkCommitDurable(node: SimNode, previousCommit: number): void {
    const raft = (node.raw as RawNode).raft
    const voters = raft.configuration.voters
    const needed = Math.floor(voters.length / 2) + 1
    for (let index = previousCommit + 1; index <= raft.log.committed; index++) {
      const term = raft.log.term(index)
      if (term === undefined) continue // compacted: committed long ago
      const holders = voters.filter((id) => {
        const disk = this.nodes.get(id)?.disk
        return disk !== undefined && holds(disk, index, term)
      })
      if (holders.length < needed) {
        throw new InvariantViolation(
          'Durable commit',
          `${node.id} committed ${index}/${term} while only [${holders}] of voters [${voters}] hold it on disk`,
        )
      }
    }
  }

  /** Configuration agreement: nodes that committed an index agree on the configuration there. */
  private checkCommittedConfiguration(node: SimNode): void {
    const log = (node.raw as RawNode).raft.log
    const index = log.committed
    const configuration = describeConfiguration(log.configurations.at(index))
    const known = this.committedConfigurations.get(index)
    if (known === undefined) {
      this.committedConfigurations.set(index, configuration)
    } else if (known !== configuration) {
      throw new InvariantViolation(
        'Configuration agreement',
        `${node.id} committed ${configuration} at index ${index}, another node committed ${known} there`,
      )
    }
  }

  /**
   * Single-server changes (thesis §4.1): a leader's log holds at most one change past what is
   * committed (anywhere: a restarted leader's own commit index may be stale).
   */
  private checkOneChangeInFlight(node: SimNode): void {
    const log = (node.raw as RawNode).raft.log
    const committed = Math.max(log.committed, this.highestCommitted)
    const changes: string[] = []
    for (const entry of log.entries) {
      if (entry.index > committed && entry.type === 'configuration') {
        changes.push(`${entry.index}/${entry.term}`)
      }
    }
    if (changes.length > 1) {
      throw new InvariantViolation(
        'One change in flight',
        `leader ${node.id} of term ${(node.raw as RawNode).raft.term} holds uncommitted configuration changes at ${changes.join(', ')} (commit ${log.committed})\n${this.describe()}`,
      )
    }
  }

  /** Durability of acknowledged proposals: after healing, every live voter applied each one. */
  private checkAcknowledgedSurvived(): void {
    for (const [index, term] of this.acknowledged) {
      const entry = this.applied.get(index)
      if (entry === undefined || entry.term !== term) {
        throw new InvariantViolation(
          'Durability of acknowledged proposals',
          `the proposal acknowledged at ${index}/${term} is not what was applied there`,
        )
      }
    }
    const leader = this.highestLeader()
    for (const id of leader?.raw?.raft.configuration.voters ?? []) {
      const node = this.nodes.get(id)
      if (node?.raw !== undefined && node.applied < this.highestAcknowledged) {
        throw new InvariantViolation(
          'Durability of acknowledged proposals',
          `voter ${id} applied only up to ${node.applied} after recovery; ${this.highestAcknowledged} was acknowledged`,
        )
      }
    }
  }

  /** Every node's state, for failure reports. */
  describe(): string {
    const lines: string[] = []
    for (const node of this.nodes.values()) {
      const raw = node.raw
      if (raw === undefined) {
        lines.push(`  ${node.id}: crashed`)
        continue
      }
      const status = raw.status()
      const progress = Object.entries(status.progress)
        .map(([id, p]) => `${id}:${p.state}/m${p.match}/n${p.next}${p.paused ? '/paused' : ''}`)
        .join(' ')
      lines.push(
        `  ${node.id}: ${status.role} term ${status.term} leader ${status.leader} commit ${status.commitIndex} applied ${node.applied} log ${status.firstIndex}..${status.lastIndex} ${describeConfiguration(status.configuration)}${progress ? ` progress ${progress}` : ''}`,
      )
    }
    return lines.join('\n')
  }

  // -------------------------------------------------------------------------------------------
  // Healing

  private heal(): void {
    this.cut.clear()
    for (const node of this.nodes.values()) {
      if (node.raw === undefined) this.boot(node)
    }
  }

  /** After healing: a leader must emerge and commit a fresh entry on every live voter. */
  private recover(): boolean {
    const savedLoss = this.options.loss
    const savedLeaderLoss = this.options.leaderLoss
    const savedDuplication = this.options.duplication
    const savedDelay = this.options.maxDelay
    this.options.loss = 0
    this.options.leaderLoss = 0
    this.options.duplication = 0
    // A healed network: prompt delivery, so slow profiles (a window of one) recover in time too.
    this.options.maxDelay = Math.min(savedDelay, 1)
    this.recovering = true
    let marker: { index: number; term: number; leader: NodeId } | undefined
    const deadline = this.now + this.options.recoveryTicks
    try {
      for (; this.now < deadline; this.now++) {
        const leaders = this.leaderNodes()
        if (marker === undefined || !leaders.some((leader) => leader.id === marker?.leader)) {
          const leader = this.highestLeader()
          if (leader?.raw !== undefined && leader.raw.raft.leadTransferee === null) {
            try {
              const proposed = leader.raw.propose([new Uint8Array([0xfe, this.now & 255])])
              marker = { ...proposed, leader: leader.id }
            } catch {
              marker = undefined
            }
          }
        }
        this.tick()
        if (marker !== undefined) {
          const target = marker
          const leader = this.nodes.get(target.leader)
          const voters = leader?.raw?.raft.configuration.voters ?? []
          const done = voters.every((id) => {
            const node = this.nodes.get(id)
            return (
              node?.raw !== undefined &&
              node.applied >= target.index &&
              this.applied.get(target.index)?.term === target.term
            )
          })
          if (done && voters.length > 0) return true
        }
      }
      return false
    } finally {
      this.options.loss = savedLoss
      this.options.leaderLoss = savedLeaderLoss
      this.options.duplication = savedDuplication
      this.options.maxDelay = savedDelay
    }
  }
}

/** Runs one seed; throws an `InvariantViolation` with the seed in its message on failure. */
export function simulate(options: SimulationOptions): SimulationResult {
  try {
    return new Simulation(options).run()
  } catch (error) {
    if (error instanceof Error) {
      error.message = `seed ${options.seed}: ${error.message}`
    }
    throw error
  }
}
