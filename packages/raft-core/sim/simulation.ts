import { bootstrapState } from '../src/configuration/bootstrap.ts'
import { isMember } from '../src/configuration/configuration.ts'
import type { Message } from '../src/message.ts'
import type { Ready } from '../src/raft/raw-node.ts'
import { RawNode } from '../src/raft/raw-node.ts'
import type { Entry, HardState, NodeId, SnapshotMetadata } from '../src/types.ts'
import { seededRandom } from './random.ts'

/**
 * A seeded, deterministic simulation of a Raft cluster built from `RawNode`s: an unreliable
 * network (loss, duplication, reordering, delay, partitions), crashes that lose everything not
 * persisted, restarts, membership changes, leadership transfers and log compaction. After every
 * step it checks Raft's safety properties (paper §5.2-§5.4, Figure 3); at the end it heals all
 * faults and requires the cluster to elect a leader and commit again.
 */

export interface SimulationOptions {
  seed: number
  /** Simulated ticks of faults and load. */
  ticks?: number
  /** Nodes in the pool; the first `initialVoters` start as the cluster. */
  nodes?: number
  initialVoters?: number
  /** Probabilities per message. */
  loss?: number
  duplication?: number
  /** Most ticks a message may be delayed (delays reorder messages). */
  maxDelay?: number
  /** Probabilities per tick. */
  crash?: number
  partition?: number
  membershipChange?: number
  transfer?: number
  compaction?: number
  /** Ticks allowed, after healing, to elect a leader and commit. */
  recoveryTicks?: number
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
  partitions: number
  membershipChanges: number
  transfers: number
  snapshotsInstalled: number
  messagesDelivered: number
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

interface SimNode {
  readonly id: NodeId
  readonly disk: Disk
  raw: RawNode | undefined
  machine: MachineState
  /** Highest index applied by the state machine in this incarnation. */
  applied: number
  crashedUntil: number
  // Values seen last step, for the monotonicity checks within one incarnation.
  lastTerm: number
  lastCommit: number
  leaderLastIndex: number
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

export class Simulation {
  readonly options: Required<SimulationOptions>
  private readonly random: () => number
  private readonly nodes = new Map<NodeId, SimNode>()
  private inFlight: InFlight[] = []
  private order = 0
  private now = 0
  private readonly cut = new Set<string>()
  private partitionUntil = 0
  private proposalCounter = 0
  private recovering = false

  // Global history for the safety checks.
  /** term → the one leader elected in it (Election Safety). */
  private readonly leaders = new Map<number, NodeId>()
  /** index → the entry applied there by anyone (State Machine Safety). */
  private readonly applied = new Map<number, { term: number; data: Uint8Array }>()
  /** "index/term" → the data and the term of the previous entry (Log Matching). */
  private readonly logRegistry = new Map<string, { data: Uint8Array; previousTerm: number }>()
  private readonly stats: SimulationResult

  constructor(options: SimulationOptions) {
    this.options = {
      ticks: 400,
      nodes: 5,
      initialVoters: 3,
      loss: 0.05,
      duplication: 0.02,
      maxDelay: 3,
      crash: 0.01,
      partition: 0.01,
      membershipChange: 0.01,
      transfer: 0.005,
      compaction: 0.02,
      recoveryTicks: 300,
      ...options,
    }
    this.random = seededRandom(options.seed)
    this.stats = {
      seed: options.seed,
      ticks: 0,
      elections: 0,
      committed: 0,
      crashes: 0,
      partitions: 0,
      membershipChanges: 0,
      transfers: 0,
      snapshotsInstalled: 0,
      messagesDelivered: 0,
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
    const initial = bootstrapState({ voters, nonVoters: [], staging: [] })
    for (const id of ids) {
      const disk: Disk = voters.includes(id)
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
        crashedUntil: 0,
        lastTerm: 0,
        lastCommit: 0,
        leaderLastIndex: 0,
      }
      this.nodes.set(id, node)
      this.boot(node)
      if (voters.includes(id)) {
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
    this.stats.ticks = this.now
    this.stats.committed = this.applied.size
    return this.stats
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  private boot(node: SimNode): void {
    const snapshot = node.disk.snapshot
    node.raw = new RawNode(
      node.id,
      { hardState: node.disk.hardState, snapshot: snapshot?.metadata, entries: node.disk.entries },
      {
        random: seededRandom(Math.floor(this.random() * 2 ** 31)),
        electionTicks: 10,
        heartbeatTicks: 1,
      },
    )
    node.machine = snapshot?.state ?? { hash: 0, count: 0 }
    node.applied = snapshot?.metadata.index ?? 0
    node.lastTerm = node.raw.raft.term
    node.lastCommit = node.raw.raft.log.committed
    node.leaderLastIndex = 0
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.raw !== undefined)
  }

  private crash(node: SimNode): void {
    // Everything not persisted is lost: the RawNode, unstable entries, queued messages.
    node.raw = undefined
    node.crashedUntil = this.now + 5 + Math.floor(this.random() * 40)
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
        this.boot(node)
      }
    }
    const live = this.live()
    // Keep a majority of the pool alive most of the time, so the run makes progress too.
    if (this.chance(this.options.crash) && live.length > Math.ceil(this.options.nodes / 2)) {
      const victim = this.pick(live)
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

  private clientRequests(): void {
    for (const leader of this.leaderNodes()) {
      const raw = leader.raw as RawNode
      if (this.chance(0.5)) {
        const count = 1 + Math.floor(this.random() * 3)
        const data = Array.from({ length: count }, () => {
          this.proposalCounter++
          return new Uint8Array([this.proposalCounter & 255, (this.proposalCounter >> 8) & 255, 7])
        })
        try {
          raw.propose(data)
        } catch {
          // Dropped during a transfer: fine.
        }
      }
      if (this.chance(this.options.membershipChange)) {
        this.changeMembership(leader)
      }
      if (this.chance(this.options.transfer)) {
        const target = this.pick(raw.raft.configuration.voters.filter((id) => id !== leader.id))
        if (target !== undefined) {
          raw.transferLeadership(target)
          this.stats.transfers++
        }
      }
      if (this.chance(0.05)) {
        try {
          raw.readIndex(`read-${this.now}`)
        } catch {
          // Not leader any more.
        }
      }
    }
    for (const node of this.live()) {
      if (this.chance(this.options.compaction)) {
        this.compact(node)
      }
    }
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
      if (outside.length > 0 && (this.chance(0.6) || configuration.voters.length <= 2)) {
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

  /** Takes a snapshot at the applied index and compacts the log behind it, keeping a few entries. */
  private compact(node: SimNode): void {
    const raw = node.raw as RawNode
    const index = node.applied
    if (index === 0 || (node.disk.snapshot?.metadata.index ?? 0) >= index) return
    const term = raw.raft.log.term(index)
    if (term === undefined) return
    const metadata: SnapshotMetadata = {
      index,
      term,
      configuration: raw.raft.log.configurations.at(index),
    }
    if (raw.raft.log.applied !== index) return
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
    // Let work settle within the tick: Readys, then deliveries, a few rounds.
    for (let round = 0; round < 4; round++) {
      for (const node of this.shuffled(this.live())) {
        this.processReady(node)
      }
      this.deliverDue()
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

  private enqueue(message: Message, sender: SimNode): void {
    if (this.chance(this.options.loss)) {
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
      target.raw?.step(message)
      this.checkStep()
    }
  }

  /** Handles one Ready the way a driver must: persist, then send, then apply. */
  private processReady(node: SimNode): void {
    for (let guard = 0; guard < 10; guard++) {
      const raw = node.raw
      if (raw === undefined || !raw.hasReady()) return
      const ready = raw.ready()
      if (!this.recovering && this.chance(0.002)) {
        // Crash with this Ready only half done: nothing of it reached the disk or the network.
        this.crash(node)
        return
      }
      this.persist(node, ready)
      for (const message of ready.messages) this.enqueue(message, node)
      this.apply(node, ready)
      raw.advance(ready)
      this.afterAdvance(node, ready)
      this.checkStep()
    }
  }

  private persist(node: SimNode, ready: Ready): void {
    const disk = node.disk
    const raw = node.raw as RawNode
    if (ready.snapshot !== undefined) {
      const stored = this.storedSnapshot(disk, ready.snapshot)
      if (stored === undefined) {
        throw new InvariantViolation(
          'Snapshot install',
          `${node.id} was told to install a snapshot it never received`,
        )
      }
      if ((disk.snapshot?.metadata.index ?? 0) < stored.metadata.index) disk.snapshot = stored
      node.machine = stored.state
      node.applied = ready.snapshot.index
      disk.entries = []
      this.stats.snapshotsInstalled++
    }
    const first = ready.entries[0]
    if (first !== undefined) {
      if (raw.raft.role === 'leader' && raw.raft.term === (ready.entries[0] as Entry).term) {
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
      // The entry these follow in the log they were appended to (-1: compacted, unknown).
      const previousTerm = raw.raft.log.term(first.index - 1) ?? -1
      this.registerEntries(node, ready.entries, previousTerm)
      disk.entries = disk.entries.filter((entry) => entry.index < first.index)
      const last = disk.entries[disk.entries.length - 1]
      if (last !== undefined && last.index !== first.index - 1) {
        // The log was emptied by a snapshot and starts again after it.
        disk.entries = []
      }
      disk.entries.push(...ready.entries)
    }
    if (ready.hardState !== undefined) {
      const previous = disk.hardState
      if (previous !== undefined && ready.hardState.term < previous.term) {
        throw new InvariantViolation(
          'Monotonic term',
          `${node.id} persisted term ${ready.hardState.term} after ${previous.term}`,
        )
      }
      if (
        previous !== undefined &&
        ready.hardState.term === previous.term &&
        previous.vote !== null &&
        ready.hardState.vote !== previous.vote
      ) {
        throw new InvariantViolation(
          'One vote per term',
          `${node.id} voted for ${previous.vote} and then ${ready.hardState.vote} in term ${previous.term}`,
        )
      }
      // As the driver does (etcd's MustSync): the commit index alone is not written, so a
      // restart can come back with a stale one.
      const mustSave =
        previous === undefined ||
        ready.hardState.term !== previous.term ||
        ready.hardState.vote !== previous.vote ||
        ready.entries.length > 0
      if (mustSave) disk.hardState = ready.hardState
    }
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

  private apply(node: SimNode, ready: Ready): void {
    for (const entry of ready.committedEntries) {
      if (entry.index <= node.applied) continue
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
    }
  }

  private afterAdvance(node: SimNode, ready: Ready): void {
    const raw = node.raw as RawNode
    if (
      ready.softState?.role === 'leader' ||
      (raw.raft.role === 'leader' && node.leaderLastIndex === 0)
    ) {
      this.onLeader(node)
    }
  }

  /** Election Safety (§5.2) and Leader Completeness (§5.4) when a node becomes leader. */
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
    if (existing === undefined) this.stats.elections++
    this.leaders.set(term, node.id)
    node.leaderLastIndex = raw.raft.log.lastIndex()
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
      node.lastTerm = raft.term
      node.lastCommit = raft.log.committed
      if (raft.role === 'leader') {
        if (node.leaderLastIndex === 0) {
          this.onLeader(node)
        }
        const existing = this.leaders.get(raft.term)
        if (existing !== undefined && existing !== node.id) {
          throw new InvariantViolation(
            'Election Safety',
            `${existing} and ${node.id} both lead term ${raft.term}`,
          )
        }
        if (raft.log.lastIndex() < node.leaderLastIndex) {
          throw new InvariantViolation(
            'Leader Append-Only',
            `leader ${node.id}'s log shrank from ${node.leaderLastIndex} to ${raft.log.lastIndex()}`,
          )
        }
        node.leaderLastIndex = raft.log.lastIndex()
      } else {
        node.leaderLastIndex = 0
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
      const configuration = status.configuration
      const progress = Object.entries(status.progress)
        .map(([id, p]) => `${id}:${p.state}/m${p.match}/n${p.next}${p.paused ? '/paused' : ''}`)
        .join(' ')
      lines.push(
        `  ${node.id}: ${status.role} term ${status.term} leader ${status.leader} commit ${status.commitIndex} applied ${node.applied} log ${status.firstIndex}..${status.lastIndex} voters [${configuration.voters}] staging [${configuration.staging}] non-voters [${configuration.nonVoters}]${progress ? ` progress ${progress}` : ''}`,
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
    const savedDuplication = this.options.duplication
    this.options.loss = 0
    this.options.duplication = 0
    this.recovering = true
    let marker: { index: number; term: number; leader: NodeId } | undefined
    const deadline = this.now + this.options.recoveryTicks
    try {
      for (; this.now < deadline; this.now++) {
        const leaders = this.leaderNodes()
        if (marker === undefined || !leaders.some((leader) => leader.id === marker?.leader)) {
          const leader = leaders.sort(
            (a, b) => (b.raw?.raft.term ?? 0) - (a.raw?.raft.term ?? 0),
          )[0]
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
      this.options.duplication = savedDuplication
    }
  }
}

/** Runs one seed; throws an `InvariantViolation` with the seed in its message on failure. */
export function simulate(options: SimulationOptions): SimulationResult {
  try {
    return new Simulation(options).run()
  } catch (error) {
    if (error instanceof Error) {
      error.message = `seed ${options.seed}: ${error.message}\n  replay: pnpm --filter @pinraft/raft-core sim --seed ${options.seed}${options.ticks !== undefined ? ` --ticks ${options.ticks}` : ''}`
    }
    throw error
  }
}
