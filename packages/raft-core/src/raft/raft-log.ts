import { ConfigurationHistory } from '../configuration/history.ts'
import { StorageCorruptError } from '../errors.ts'
import type { Entry, SnapshotMetadata } from '../types.ts'

/** Bytes an entry counts for in size limits: its data plus a fixed overhead for the envelope. */
export function entrySize(entry: Entry): number {
  return entry.data.byteLength + 16
}

/**
 * A node's log, in memory: the entries since the last compaction, and how far they are
 * persisted, committed and applied (etcd-io/raft's raftLog + unstable, merged, since raft-core
 * keeps the retained log in memory and storage only makes it durable).
 *
 * Invariants:
 * - `entries[i].index === offset + 1 + i` (contiguous after the compaction point);
 * - `offset <= applied <= committed <= lastIndex()`;
 * - `offset <= stableIndex <= lastIndex()`: entries up to `stableIndex` are durable.
 */
export class RaftLog {
  /** Index of the last compacted entry (or of the restored snapshot); 0 for a fresh log. */
  offset = 0
  /** Term of the entry at `offset`. */
  offsetTerm = 0
  entries: Entry[] = []
  stableIndex = 0
  committed = 0
  /** Highest index handed out for application. */
  applied = 0
  /** A snapshot received from the leader and not yet installed by the driver. */
  pendingSnapshot: SnapshotMetadata | undefined
  /** The newest snapshot this node has (sent to followers that fell behind the compacted log). */
  snapshot: SnapshotMetadata | undefined
  /**
   * The configurations in the log; the latest is the one in force, committed or not
   * (thesis §4.1). Kept in step with every append, truncation, compaction and restore.
   */
  readonly configurations = new ConfigurationHistory()

  /**
   * Rebuilds the log from what storage holds: the newest snapshot (if any) and the stored
   * entries, which may begin before the snapshot (trailing logs) or conflict with it.
   */
  static fromStorage(
    snapshot: SnapshotMetadata | undefined,
    stored: readonly Entry[],
    commit: number,
  ): RaftLog {
    const log = new RaftLog()
    let entries = [...stored]
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]?.index !== (entries[i - 1]?.index ?? 0) + 1) {
        throw new StorageCorruptError(
          `the stored log has a gap after index ${entries[i - 1]?.index}; it cannot be used safely: restore from a backup or remove the node's data and re-add it`,
        )
      }
    }
    if (snapshot !== undefined) {
      log.snapshot = snapshot
      const atSnapshot = entries.find((entry) => entry.index === snapshot.index)
      const first = entries[0]
      if (first !== undefined && first.index > snapshot.index + 1) {
        throw new StorageCorruptError(
          `the stored log starts at index ${first.index}, after the snapshot at ${snapshot.index} ends: entries in between are missing`,
        )
      }
      const last = entries[entries.length - 1]
      if (first !== undefined && first.index === snapshot.index + 1) {
        // Compacted exactly through the snapshot: the log continues it.
        log.offset = snapshot.index
        log.offsetTerm = snapshot.term
      } else if (
        atSnapshot === undefined ||
        atSnapshot.term !== snapshot.term ||
        last === undefined
      ) {
        // The log does not continue the snapshot (it ends before it, or holds another entry
        // there): the snapshot wins, as in etcd-io/raft's restore.
        entries = []
        log.offset = snapshot.index
        log.offsetTerm = snapshot.term
      } else {
        // Keep the trailing entries before the snapshot: followers slightly behind need them.
        const firstKept = entries[0] as Entry
        log.offset = firstKept.index
        log.offsetTerm = firstKept.term
        entries = entries.slice(1)
      }
    } else if (entries.length > 0) {
      const first = entries[0] as Entry
      if (first.index !== 1) {
        throw new StorageCorruptError(
          `the stored log starts at index ${first.index} but there is no snapshot covering the entries before it`,
        )
      }
    }
    log.entries = entries
    // Configuration entries up to the snapshot are already in its configuration.
    log.configurations.reset(
      snapshot?.configuration ?? log.configurations.latest(),
      snapshot?.index ?? 0,
    )
    for (const entry of entries) log.configurations.append(entry)
    log.stableIndex = log.lastIndex()
    // The state machine is rebuilt from the snapshot, so everything after it is applied again.
    const floor = snapshot?.index ?? 0
    log.applied = floor
    if (commit > log.lastIndex()) {
      // A driver never stores a commit index past its durable log (planReady), so entries that
      // were durable are gone: the store lost its log suffix. Lowering the index would forget
      // entries this node acknowledged, and it could then vote for a leader without them.
      throw new StorageCorruptError(
        `the stored commit index ${commit} is past the last stored entry ${log.lastIndex()}: the log lost its suffix (a cut write-ahead log or a restored partial copy); restore this node's Raft data from a backup, or remove it and re-add the node so it catches up from the leader`,
      )
    }
    log.committed = Math.max(commit, floor)
    return log
  }

  firstIndex(): number {
    return this.offset + 1
  }

  lastIndex(): number {
    return this.offset + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of the entry at `index`, or undefined if it is compacted or past the end. */
  term(index: number): number | undefined {
    if (index === this.offset) {
      return this.offsetTerm
    }
    if (index < this.offset || index > this.lastIndex()) {
      return undefined
    }
    return this.entries[index - this.offset - 1]?.term
  }

  entry(index: number): Entry | undefined {
    if (index <= this.offset) return undefined
    return this.entries[index - this.offset - 1]
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /**
   * Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up-to-date as this one
   * (paper §5.4.1, the election restriction).
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ownTerm = this.lastTerm()
    return lastTerm > ownTerm || (lastTerm === ownTerm && lastIndex >= this.lastIndex())
  }

  /**
   * The index of the first entry in `entries` that is not already in the log with the same
   * term, or 0 when all of them are.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) {
        return entry.index
      }
    }
    return 0
  }

  /**
   * The largest index at or below `index` whose term is at most `term`: every entry above it has
   * a higher term, so cannot match a log whose entry at `index` has term `term` (the fast
   * backtracking of thesis §5.3's footnote, as etcd-io/raft implements it).
   */
  findConflictByTerm(index: number, term: number): number {
    let candidate = Math.min(index, this.lastIndex())
    while (candidate > this.offset) {
      const candidateTerm = this.term(candidate)
      if (candidateTerm === undefined || candidateTerm <= term) {
        break
      }
      candidate--
    }
    return candidate
  }

  /**
   * Appends `entries` that follow (`index`, `logTerm`) if the log matches there (the
   * AppendEntries consistency check, paper §5.3), and advances the commit index to at most
   * `commit` and the last new entry. Returns the index of the last new entry, or undefined when
   * the log does not match.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    commit: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) {
      return undefined
    }
    const lastNew = index + entries.length
    const conflict = this.findConflict(entries)
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new StorageCorruptError(
          `leader sent entry ${conflict} that conflicts with a committed entry (commit ${this.committed}); this breaks Raft's safety and means a log was lost or corrupted`,
        )
      }
      const first = entries[0]
      const from = first === undefined ? 0 : conflict - first.index
      this.append(entries.slice(from))
    }
    this.commitTo(Math.min(commit, lastNew))
    return lastNew
  }

  /**
   * Appends entries, replacing any entries at and after the first one's index. Returns the new
   * last index.
   */
  append(entries: readonly Entry[]): number {
    const first = entries[0]
    if (first === undefined) {
      return this.lastIndex()
    }
    if (first.index <= this.committed) {
      throw new StorageCorruptError(
        `refusing to overwrite committed entry ${first.index} (commit ${this.committed})`,
      )
    }
    if (first.index > this.lastIndex() + 1) {
      throw new StorageCorruptError(
        `entries starting at ${first.index} do not follow the last entry ${this.lastIndex()}`,
      )
    }
    const keep = first.index - this.offset - 1
    if (keep < this.entries.length) {
      this.entries.length = keep
      this.stableIndex = Math.min(this.stableIndex, first.index - 1)
      this.configurations.truncateFrom(first.index)
    }
    for (const entry of entries) {
      this.entries.push(entry)
      if (entry.type === 'configuration') this.configurations.append(entry)
    }
    return this.lastIndex()
  }

  /**
   * Entries from `low` on, at most `maxCount` of them and at most `maxBytes` (but always at
   * least one if any exist). Undefined when `low` is compacted.
   */
  slice(low: number, maxCount: number, maxBytes: number): Entry[] | undefined {
    if (low <= this.offset) {
      return undefined
    }
    const last = this.lastIndex()
    if (low > last) {
      return []
    }
    const start = low - this.offset - 1
    const end = Math.min(this.entries.length, start + maxCount)
    const result: Entry[] = []
    let bytes = 0
    for (let i = start; i < end; i++) {
      const entry = this.entries[i] as Entry
      bytes += entrySize(entry)
      if (result.length > 0 && bytes > maxBytes) {
        break
      }
      result.push(entry)
    }
    return result
  }

  /** Entries not yet persisted. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.stableIndex - this.offset)
  }

  /** Marks entries up to `index` persisted, if the entry there is still of `term`. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.stableIndex) {
      this.stableIndex = index
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) {
      return
    }
    if (index > this.lastIndex()) {
      throw new StorageCorruptError(
        `commit index ${index} is past the last entry ${this.lastIndex()}: the log was truncated or lost`,
      )
    }
    this.committed = index
  }

  /** Committed entries not yet handed out for application, at most `maxCount`. */
  nextCommittedEntries(maxCount: number): Entry[] {
    if (this.pendingSnapshot !== undefined) {
      return []
    }
    const high = Math.min(this.committed, this.applied + maxCount)
    if (high <= this.applied) {
      return []
    }
    return this.entries.slice(this.applied - this.offset, high - this.offset)
  }

  hasNextCommittedEntries(): boolean {
    return this.pendingSnapshot === undefined && this.committed > this.applied
  }

  appliedTo(index: number): void {
    if (index > this.applied) {
      this.applied = index
    }
  }

  /** Replaces the whole log with a snapshot received from the leader (paper §7). */
  restore(snapshot: SnapshotMetadata): void {
    this.entries = []
    this.offset = snapshot.index
    this.offsetTerm = snapshot.term
    this.stableIndex = snapshot.index
    this.committed = snapshot.index
    this.applied = snapshot.index
    this.pendingSnapshot = snapshot
    this.snapshot = snapshot
    this.configurations.reset(snapshot.configuration, snapshot.index)
  }

  /**
   * Drops entries up to `through`, which must be applied and persisted. The term of `through`
   * stays known, so an append following it can still be checked.
   */
  compact(through: number): void {
    if (through <= this.offset) {
      return
    }
    if (through > this.applied || through > this.stableIndex) {
      throw new RangeError(
        `cannot compact through ${through}: only entries that are applied (${this.applied}) and persisted (${this.stableIndex}) may be compacted`,
      )
    }
    const term = this.term(through) as number
    const dropped = this.entries
    this.entries = dropped.slice(through - this.offset)
    ;(dropped as Array<Entry | undefined>).fill(undefined)
    this.offset = through
    this.offsetTerm = term
    this.configurations.compact(through)
  }
}
