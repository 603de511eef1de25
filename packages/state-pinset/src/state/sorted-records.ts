import { cidLength } from '../cid.ts'

/**
 * The pins in CID order: a sorted sequence of records held in chunks of at most `chunkSize`
 * (a one-level B-tree). A record is a binary string that starts with its CID's bytes, so records
 * compare in CID order and a lookup needs no separate key per pin: with K a CID and R a record,
 * K < R exactly when K ≤ R's CID, because no valid CID is a proper prefix of another (CIDs are
 * self-delimiting). Each pin costs one string and one array slot.
 */
export const chunkSize = 512

export class SortedRecords {
  #chunks: string[][] = []
  #size = 0
  /** Bumped on every change so iterators can tell they must find their place again. */
  version = 0

  get size(): number {
    return this.#size
  }

  /** The chunk that holds or would hold the key: the first whose last record is above it. */
  #chunkFor(key: string): number {
    const chunks = this.#chunks
    let low = 0
    let high = chunks.length - 1
    if (high < 0) return -1
    while (low < high) {
      const middle = (low + high) >>> 1
      const chunk = chunks[middle]!
      if (key < chunk[chunk.length - 1]!) high = middle
      else low = middle + 1
    }
    return low
  }

  /** The position of the first record of a chunk at or above the key's CID. */
  static #positionIn(chunk: string[], key: string): number {
    let low = 0
    let high = chunk.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (key < chunk[middle]!) high = middle
      else low = middle + 1
    }
    return low
  }

  /**
   * Where the last `get` found its key, for the `set` of the same key that usually follows (a
   * pin is looked up, then written): one search instead of two, each a chain of cache misses.
   */
  #foundKey: string | null = null
  #foundVersion = -1
  #foundIndex = 0
  #foundPosition = 0

  get(key: string): string | undefined {
    const index = this.#chunkFor(key)
    if (index < 0) return undefined
    const chunk = this.#chunks[index]!
    const position = SortedRecords.#positionIn(chunk, key)
    this.#foundKey = key
    this.#foundVersion = this.version
    this.#foundIndex = index
    this.#foundPosition = position
    const record = chunk[position]
    return record?.startsWith(key) ? record : undefined
  }

  /** Inserts or replaces the record of `key`; returns the record it replaced. */
  set(key: string, record: string): string | undefined {
    this.version++
    const chunks = this.#chunks
    if (chunks.length === 0) {
      chunks.push([record])
      this.#size = 1
      return undefined
    }
    const known = this.#foundKey === key && this.#foundVersion === this.version - 1
    this.#foundKey = null
    const index = known ? this.#foundIndex : this.#chunkFor(key)
    const chunk = chunks[index]!
    const position = known ? this.#foundPosition : SortedRecords.#positionIn(chunk, key)
    const existing = chunk[position]
    if (existing?.startsWith(key)) {
      chunk[position] = record
      return existing
    }
    chunk.splice(position, 0, record)
    this.#size++
    if (chunk.length > chunkSize) {
      // Appending in order (a restore, an import of sorted CIDs) leaves full chunks behind.
      const split =
        position === chunk.length - 1 && index === chunks.length - 1
          ? chunkSize
          : chunk.length >>> 1
      chunks.splice(index + 1, 0, chunk.splice(split))
    }
    return undefined
  }

  /** Removes the record of `key`; returns it. */
  delete(key: string): string | undefined {
    const index = this.#chunkFor(key)
    if (index < 0) return undefined
    const chunks = this.#chunks
    const chunk = chunks[index]!
    const position = SortedRecords.#positionIn(chunk, key)
    const existing = chunk[position]
    if (!existing?.startsWith(key)) return undefined
    this.version++
    chunk.splice(position, 1)
    this.#size--
    if (chunk.length === 0) {
      chunks.splice(index, 1)
    } else if (chunk.length < chunkSize >>> 2) {
      // Merge a thin chunk into its next neighbour when both fit in half a chunk.
      const next = chunks[index + 1]
      if (next !== undefined && chunk.length + next.length <= chunkSize >>> 1) {
        chunks[index] = chunk.concat(next)
        chunks.splice(index + 1, 1)
      }
    }
    return existing
  }

  /** Appends a record above every other one (the caller checks the order). */
  append(record: string): void {
    this.version++
    const last = this.#chunks[this.#chunks.length - 1]
    if (last === undefined || last.length >= chunkSize) this.#chunks.push([record])
    else last.push(record)
    this.#size++
  }

  /** The last record, if any. */
  last(): string | undefined {
    const chunk = this.#chunks[this.#chunks.length - 1]
    return chunk?.[chunk.length - 1]
  }

  /**
   * Records in order, starting after the record of `afterKey` (or at the start). Tolerates
   * changes between steps: it then finds its place again from the last key it returned.
   */
  *records(afterKey?: string): Generator<string> {
    let chunkIndex = 0
    let position = 0
    let version = this.version
    let lastRecord: string | undefined
    if (afterKey !== undefined) [chunkIndex, position] = this.#after(afterKey)
    while (true) {
      if (version !== this.version) {
        version = this.version
        if (lastRecord !== undefined) {
          ;[chunkIndex, position] = this.#after(
            lastRecord.slice(0, cidLength(lastRecord, 0, lastRecord.length)),
          )
        }
      }
      const chunk = this.#chunks[chunkIndex]
      if (chunk === undefined) return
      if (position >= chunk.length) {
        chunkIndex++
        position = 0
        continue
      }
      lastRecord = chunk[position++]!
      yield lastRecord
    }
  }

  #after(key: string): [number, number] {
    const index = this.#chunkFor(key)
    if (index < 0) return [0, 0]
    const chunk = this.#chunks[index]!
    let position = SortedRecords.#positionIn(chunk, key)
    if (chunk[position]?.startsWith(key)) position++
    return [index, position]
  }

  /** The number of chunks (for tests of the structure). */
  get chunkCount(): number {
    return this.#chunks.length
  }
}
