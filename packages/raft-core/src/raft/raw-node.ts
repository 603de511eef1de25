import { last } from '../last.ts'
import type { Message } from '../message.ts'
import type {
  ConfigurationChange,
  Entry,
  EntryType,
  HardState,
  NodeId,
  ReadState,
  Role,
  SnapshotMetadata,
} from '../types.ts'
import type { RaftOptions } from './options.ts'
import { resolveRaftOptions } from './options.ts'
import { Raft } from './raft.ts'
import { RaftLog } from './raft-log.ts'
import type { FollowerProgress, Status } from './status.ts'

/** Role and leader: volatile, never persisted. */
export interface SoftState {
  readonly role: Role
  readonly leader: NodeId | null
}

/**
 * Everything the caller must do, in this order, before calling `advance` (etcd-io/raft's Ready):
 * 1. install `snapshot` (its data is already in the snapshot store) if set;
 * 2. persist `entries` (replacing any stored entries from the first one's index on) and
 *    `hardState` if set; only then
 * 3. send `messages` (a vote or an acknowledgement must not leave before it is durable,
 *    paper §5.2, thesis §3.8);
 * 4. apply `committedEntries` to the state machine, in order;
 * 5. serve reads whose `readStates` index is applied.
 */
export interface Ready {
  readonly softState: SoftState | undefined
  readonly hardState: HardState | undefined
  readonly snapshot: SnapshotMetadata | undefined
  readonly entries: readonly Entry[]
  readonly committedEntries: readonly Entry[]
  readonly messages: readonly Message[]
  readonly readStates: readonly ReadState[]
}

/** What a node starts from: what its stores hold, or nothing for a brand new node. */
export interface InitialState {
  readonly hardState?: HardState | undefined
  /** The newest snapshot, whose data the caller has restored into its state machine. */
  readonly snapshot?: SnapshotMetadata | undefined
  /** The stored log, which may start before the snapshot (trailing entries). */
  readonly entries?: readonly Entry[]
}

function hardStatesEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/**
 * The synchronous, single-threaded interface to a Raft node (etcd-io/raft's RawNode). Feed it
 * `tick()`s and `step(message)`s and local requests; pull `ready()`, do what it says, then
 * `advance(ready)`. It never performs I/O, reads a clock or draws randomness of its own.
 */
export class RawNode {
  readonly raft: Raft
  private previousSoftState: SoftState
  private previousHardState: HardState
  private outstanding: Ready | undefined

  constructor(id: NodeId, initial: InitialState, options: RaftOptions) {
    const resolved = resolveRaftOptions(options)
    const log = RaftLog.fromStorage(
      initial.snapshot,
      initial.entries ?? [],
      initial.hardState?.commit ?? 0,
    )
    this.raft = new Raft(id, resolved, log, initial.hardState)
    this.previousSoftState = this.softState()
    this.previousHardState = this.raft.hardState()
  }

  get id(): NodeId {
    return this.raft.id
  }

  tick(): void {
    this.raft.tick()
  }

  step(message: Message): void {
    this.raft.step(message)
  }

  /** Starts an election now (etcd-io/raft's MsgHup), if this node may lead. */
  campaign(): void {
    this.raft.campaign(false)
  }

  propose(
    data: readonly Uint8Array[],
    type: EntryType = 'normal',
  ): { index: number; term: number } {
    return this.raft.propose(data, type)
  }

  proposeConfigurationChange(change: ConfigurationChange): { index: number; term: number } | null {
    return this.raft.proposeConfigurationChange(change)
  }

  readIndex(context: string): void {
    this.raft.readIndex(context)
  }

  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to)
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id)
  }

  reportSnapshot(id: NodeId, outcome: 'finished' | 'failed'): void {
    this.raft.reportSnapshot(id, outcome)
  }

  /**
   * Records a snapshot the caller took of its state machine (at most the applied index), so
   * followers that need it can be sent it, and drops log entries through `compactThrough`
   * (which must not be past the snapshot).
   */
  snapshotTaken(snapshot: SnapshotMetadata, compactThrough: number): void {
    const log = this.raft.log
    if (snapshot.index > log.applied) {
      throw new RangeError(
        `snapshot index ${snapshot.index} is past the applied index ${log.applied}`,
      )
    }
    if (compactThrough > snapshot.index) {
      throw new RangeError(
        `cannot compact through ${compactThrough}, past the snapshot at ${snapshot.index}`,
      )
    }
    if (log.snapshot === undefined || snapshot.index > log.snapshot.index) {
      log.snapshot = snapshot
    }
    log.compact(compactThrough)
  }

  private softState(): SoftState {
    return { role: this.raft.role, leader: this.raft.leader }
  }

  hasReady(): boolean {
    const raft = this.raft
    const soft = this.softState()
    return (
      soft.role !== this.previousSoftState.role ||
      soft.leader !== this.previousSoftState.leader ||
      !hardStatesEqual(raft.hardState(), this.previousHardState) ||
      raft.log.pendingSnapshot !== undefined ||
      raft.log.stableIndex < raft.log.lastIndex() ||
      raft.log.hasNextCommittedEntries() ||
      raft.messages.length > 0 ||
      raft.readStates.length > 0
    )
  }

  /** What to do next. Call `advance` with it once done; only one Ready is out at a time. */
  ready(): Ready {
    if (this.outstanding !== undefined) {
      throw new Error('ready() called again before advance(): finish the previous Ready first')
    }
    const raft = this.raft
    const soft = this.softState()
    const hard = raft.hardState()
    const ready: Ready = {
      softState:
        soft.role !== this.previousSoftState.role || soft.leader !== this.previousSoftState.leader
          ? soft
          : undefined,
      hardState: hardStatesEqual(hard, this.previousHardState) ? undefined : hard,
      snapshot: raft.log.pendingSnapshot,
      entries: raft.log.unstableEntries(),
      committedEntries: raft.log.nextCommittedEntries(raft.options.maxCommittedEntriesPerReady),
      messages: raft.messages,
      readStates: raft.readStates,
    }
    raft.messages = []
    raft.readStates = []
    this.outstanding = ready
    return ready
  }

  /** Confirms that everything `ready` asked for is done. */
  advance(ready: Ready): void {
    if (ready !== this.outstanding) {
      throw new Error('advance() must be given the Ready returned by the last ready() call')
    }
    this.outstanding = undefined
    const raft = this.raft
    const log = raft.log
    if (ready.softState !== undefined) this.previousSoftState = ready.softState
    if (ready.hardState !== undefined) this.previousHardState = ready.hardState
    if (ready.snapshot !== undefined && log.pendingSnapshot === ready.snapshot) {
      log.pendingSnapshot = undefined
    }
    const lastPersisted = last(ready.entries)
    if (lastPersisted !== undefined) {
      log.stableTo(lastPersisted.index, lastPersisted.term)
    }
    for (const entry of ready.committedEntries) {
      // A restored snapshot may have replaced these entries meanwhile: then they are moot.
      if (entry.index > log.applied) log.appliedTo(entry.index)
    }
    raft.persisted()
  }

  status(): Status {
    const raft = this.raft
    const progress: Record<NodeId, FollowerProgress> = {}
    if (raft.role === 'leader') {
      for (const [id, p] of raft.progress) {
        progress[id] = {
          match: p.match,
          next: p.next,
          state: p.state,
          recentActive: p.recentActive,
          inflight: p.inflights.count,
          paused: p.isPaused(),
        }
      }
    }
    return {
      id: raft.id,
      role: raft.role,
      term: raft.term,
      vote: raft.vote,
      leader: raft.leader,
      commitIndex: raft.log.committed,
      appliedIndex: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      firstIndex: raft.log.firstIndex(),
      configuration: raft.configuration,
      leadTransferee: raft.leadTransferee,
      progress,
    }
  }
}
