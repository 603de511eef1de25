import type { AbortOptions, Entry, LogStore } from '@pinraft/raft-core'
import { AbortedError, checkLogAppend, LogRangeError } from '@pinraft/raft-core'
import type { RaftDatabase, WriteOperation } from './database.ts'
import { decodeEntry, encodeEntry } from './entry-codec.ts'
import { indexOfLogKey, logKey } from './keys.ts'

interface Bounds {
  readonly first: number
  readonly last: number
}

const empty: Bounds = { first: 0, last: 0 }

/**
 * The Raft log in LevelDB, one key per entry (see keys.ts).
 *
 * Calls that change the log may overlap: each is checked and turned into one atomic batch when
 * it is called, against the log as every earlier call leaves it, and the batches are written in
 * call order (several share one sync, see `RaftDatabase`). A call resolves once its batch is
 * synced; `firstIndex`/`lastIndex`/`entries` show only what is synced.
 */
export class LevelLogStore implements LogStore {
  readonly #database: RaftDatabase
  // What is synced: what reads report.
  #durable: Bounds
  // What the log will be once every accepted call is synced: what new calls are checked against.
  #accepted: Bounds

  private constructor(database: RaftDatabase, bounds: Bounds) {
    this.#database = database
    this.#durable = bounds
    this.#accepted = bounds
  }

  /** The log in `database`, whose bounds `RaftDatabase.open` checked. */
  static open(database: RaftDatabase): LevelLogStore {
    return new LevelLogStore(database, database.openedBounds)
  }

  async firstIndex(options?: AbortOptions): Promise<number> {
    checkSignal(options)
    return this.#durable.first
  }

  async lastIndex(options?: AbortOptions): Promise<number> {
    checkSignal(options)
    return this.#durable.last
  }

  async entries(low: number, high: number, options?: AbortOptions): Promise<Entry[]> {
    checkSignal(options)
    checkIndex(low, 'low')
    checkIndex(high, 'high')
    const { first, last } = this.#durable
    if (low > high) {
      throw new LogRangeError(`entries(${low}, ${high}): low is above high; pass low <= high`)
    }
    if (low === high) return []
    if (last === 0 || low < first || high > last + 1) {
      throw new LogRangeError(
        `entries(${low}, ${high}) asks for entries that are not stored (the log holds ${last === 0 ? 'no entries' : `entries ${first} to ${last}`})`,
      )
    }
    const entries: Entry[] = []
    // An iterator reads one consistent LevelDB snapshot, whatever is being written meanwhile.
    for await (const [key, value] of this.#database.level.iterator({
      gte: logKey(low),
      lt: logKey(high),
    })) {
      const index = low + entries.length
      if (indexOfLogKey(key) !== index) break
      entries.push(decodeEntry(index, key, value, this.#database.location))
    }
    if (entries.length !== high - low) {
      // Only a truncation that raced with this read can get here.
      throw new LogRangeError(
        `entries(${low}, ${high}): the log was truncated while it was being read; read again`,
      )
    }
    return entries
  }

  append(entries: readonly Entry[], options?: AbortOptions): Promise<void> {
    return this.#change(options, ({ first, last }) => {
      checkLogAppend(entries, first, last)
      const head = entries[0]
      if (head === undefined) return undefined
      const end = head.index + entries.length - 1
      const operations: WriteOperation[] = entries.map((entry) => {
        const key = logKey(entry.index)
        return { type: 'put', key, value: encodeEntry(entry, key) }
      })
      for (let index = end + 1; index <= last; index++) {
        operations.push({ type: 'del', key: logKey(index) })
      }
      return { operations, bounds: { first: last === 0 ? head.index : first, last: end } }
    })
  }

  truncateSuffix(from: number, options?: AbortOptions): Promise<void> {
    return this.#change(options, ({ first, last }) => {
      checkIndex(from, 'from')
      if (last === 0 || from > last) return undefined
      return {
        operations: deletions(Math.max(from, first), last),
        bounds: from <= first ? empty : { first, last: from - 1 },
      }
    })
  }

  truncatePrefix(through: number, options?: AbortOptions): Promise<void> {
    return this.#change(options, ({ first, last }) => {
      checkIndex(through, 'through')
      if (last === 0 || through < first) return undefined
      return {
        operations: deletions(first, Math.min(through, last)),
        bounds: through >= last ? empty : { first: through + 1, last },
      }
    })
  }

  /**
   * Plans a change against the accepted bounds synchronously (so that overlapping calls apply in
   * call order), then waits for its batch to be synced.
   */
  async #change(
    options: AbortOptions | undefined,
    plan: (bounds: Bounds) => { operations: WriteOperation[]; bounds: Bounds } | undefined,
  ): Promise<void> {
    checkSignal(options)
    this.#database.checkWritable()
    const change = plan(this.#accepted)
    if (change === undefined) return
    this.#accepted = change.bounds
    await this.#database.write(change.operations, { bounds: change.bounds })
    this.#durable = change.bounds
  }
}

function deletions(from: number, through: number): WriteOperation[] {
  const operations: WriteOperation[] = []
  for (let index = from; index <= through; index++) {
    operations.push({ type: 'del', key: logKey(index) })
  }
  return operations
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
