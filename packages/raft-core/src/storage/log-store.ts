import type { AbortOptions } from '../abort.ts'
import type { Entry } from '../types.ts'

/**
 * The durable Raft log.
 *
 * Invariant: the stored entries are contiguous, from `firstIndex()` to `lastIndex()`; both are
 * 0 when the log is empty. An empty log (new, or emptied by `truncatePrefix`) accepts an append
 * at any index, since a snapshot may have replaced everything before it.
 *
 * Every mutating call resolves only once its effect is durable: a resolved `append` must survive
 * a crash of the process or the machine. A store that cannot be sure of that (a failed write or
 * sync) must reject this and every later mutation (fail-stop) until it is reopened.
 */
export interface LogStore {
  /** Index of the first stored entry, or 0 when empty. */
  firstIndex(options?: AbortOptions): Promise<number>
  /** Index of the last stored entry, or 0 when empty. */
  lastIndex(options?: AbortOptions): Promise<number>
  /**
   * Entries with `low <= index < high`, in order. Rejects with a `LogRangeError` if part of the
   * range is not stored.
   */
  entries(low: number, high: number, options?: AbortOptions): Promise<Entry[]>
  /**
   * Stores `entries` atomically and durably. They must be contiguous; the first one must be at
   * most `lastIndex() + 1` and at least `firstIndex()` unless the log is empty. Stored entries at
   * and after the first new index are replaced (a conflicting suffix, paper §5.3).
   */
  append(entries: readonly Entry[], options?: AbortOptions): Promise<void>
  /** Removes every entry with `index >= from` (a no-op past the end). */
  truncateSuffix(from: number, options?: AbortOptions): Promise<void>
  /** Removes every entry with `index <= through` (log compaction, paper §7). */
  truncatePrefix(through: number, options?: AbortOptions): Promise<void>
}
