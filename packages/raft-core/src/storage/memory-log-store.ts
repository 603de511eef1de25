import type { AbortOptions } from '../abort.ts'
import { AbortedError, LogRangeError } from '../errors.ts'
import type { Entry } from '../types.ts'
import { FailStopStore } from './fail-stop.ts'
import type { LogStore } from './log-store.ts'

export interface MemoryLogStoreInit {
  /**
   * Copy entries in and out (the default), so callers may reuse their arrays and buffers.
   * `false` keeps the entries it is given and hands the same objects out, as etcd-io/raft's
   * MemoryStorage does: for drivers that never mutate an entry once appended (`RaftNode` never
   * does: entries are readonly), where the copies would be most of the store's cost.
   */
  copyEntries?: boolean
}

/**
 * A `LogStore` held in memory: for tests, simulations and nodes that keep nothing across
 * restarts. Entries are copied in and out, so callers may reuse their arrays and buffers
 * (unless `copyEntries: false`).
 *
 * `failNext()` / `fail()` inject a write failure; like a durable store, the store then refuses
 * every later mutation with a `StorageFailedError` (fail-stop). Reads keep working.
 */
export class MemoryLogStore extends FailStopStore implements LogStore {
  // Invariant: #entries[i].index === #entries[0].index + i (contiguous).
  #entries: Entry[] = []
  readonly #copy: (entry: Entry) => Entry

  constructor(init: MemoryLogStoreInit = {}) {
    super('log store')
    this.#copy = init.copyEntries === false ? shareEntry : copyEntry
  }

  async firstIndex(options?: AbortOptions): Promise<number> {
    checkSignal(options)
    return this.#entries[0]?.index ?? 0
  }

  async lastIndex(options?: AbortOptions): Promise<number> {
    checkSignal(options)
    return this.#entries.at(-1)?.index ?? 0
  }

  async entries(low: number, high: number, options?: AbortOptions): Promise<Entry[]> {
    checkSignal(options)
    checkIndex(low, 'low')
    checkIndex(high, 'high')
    const first = this.#entries[0]?.index ?? 0
    const last = this.#entries.at(-1)?.index ?? 0
    if (low > high) {
      throw new LogRangeError(`entries(${low}, ${high}): low is above high; pass low <= high`)
    }
    if (low === high) return []
    if (this.#entries.length === 0 || low < first || high > last + 1) {
      throw new LogRangeError(
        `entries(${low}, ${high}) asks for entries that are not stored (the log holds ${describe(first, last)})`,
      )
    }
    const stored = this.#entries.slice(low - first, high - first)
    return this.#copy === shareEntry ? stored : stored.map(this.#copy)
  }

  async append(entries: readonly Entry[], options?: AbortOptions): Promise<void> {
    checkSignal(options)
    this.checkWritable()
    const first = this.#entries[0]?.index ?? 0
    const last = this.#entries.at(-1)?.index ?? 0
    checkLogAppend(entries, first, last)
    this.takeInjectedFailure()
    if (entries.length === 0) return
    const start = entries[0]!.index
    const kept = this.#entries.length === 0 ? 0 : Math.max(0, start - first)
    // In place: appends are the hot path, and copying the whole log each time is quadratic.
    if (kept < this.#entries.length) this.#entries.length = kept
    const copy = this.#copy
    for (const entry of entries) this.#entries.push(copy(entry))
  }

  async truncateSuffix(from: number, options?: AbortOptions): Promise<void> {
    checkSignal(options)
    this.checkWritable()
    checkIndex(from, 'from')
    this.takeInjectedFailure()
    const first = this.#entries[0]?.index ?? 0
    this.#entries = this.#entries.slice(0, Math.max(0, from - first))
  }

  async truncatePrefix(through: number, options?: AbortOptions): Promise<void> {
    checkSignal(options)
    this.checkWritable()
    checkIndex(through, 'through')
    this.takeInjectedFailure()
    const first = this.#entries[0]?.index ?? 0
    const dropped = this.#entries
    this.#entries = dropped.slice(Math.max(0, through - first + 1))
    ;(dropped as Array<Entry | undefined>).fill(undefined)
  }
}

export function memoryLogStore(init?: MemoryLogStoreInit): MemoryLogStore {
  return new MemoryLogStore(init)
}

/**
 * Checks a batch against a log holding `first..last` (0/0 when empty) the way every `LogStore`
 * must: positive safe integer indexes, contiguous, starting inside `first..last + 1` unless the
 * log is empty. Exported for other stores so that every store words its errors the same way.
 */
export function checkLogAppend(entries: readonly Entry[], first: number, last: number): void {
  const head = entries[0]
  if (head === undefined) return
  let expected = head.index
  for (const entry of entries) {
    if (!Number.isSafeInteger(entry.index) || entry.index < 1) {
      throw new LogRangeError(
        `append: entry index ${String(entry.index)} is not a positive integer; indexes start at 1`,
      )
    }
    if (entry.index !== expected) {
      throw new LogRangeError(
        `append: entries are not contiguous (index ${entry.index} follows ${expected - 1}); pass one gap-free run of entries`,
      )
    }
    expected++
  }
  if (last === 0) return
  if (head.index > last + 1) {
    throw new LogRangeError(
      `append: the first entry has index ${head.index} but the log ends at ${last}, leaving a gap; append from index ${last + 1} or earlier`,
    )
  }
  if (head.index < first) {
    throw new LogRangeError(
      `append: the first entry has index ${head.index} but the log starts at ${first} (earlier entries were compacted); append from index ${first} or later`,
    )
  }
}

function checkIndex(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LogRangeError(`${name} must be a non-negative integer, got ${String(value)}`)
  }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}

function describe(first: number, last: number): string {
  return last === 0 ? 'no entries' : `entries ${first} to ${last}`
}

function copyEntry(entry: Entry): Entry {
  return { index: entry.index, term: entry.term, type: entry.type, data: entry.data.slice() }
}

function shareEntry(entry: Entry): Entry {
  return entry
}
