import { recordKey } from '../encoding/pin-record.ts'

/**
 * The pins in CID order: a sorted sequence of records held in chunks of at most `chunkSize`
 * (a one-level B-tree). A record is a binary string that starts with its CID's bytes, so records
 * compare in CID order and a lookup needs no separate key per pin: with K a CID and R a record,
 * K < R exactly when K ≤ R's CID, because no valid CID is a proper prefix of another (CIDs are
 * self-delimiting). Each pin costs one string, one array slot and 4 bytes of its chunk's index.
 */
export const chunkSize = 512

/**
 * The `bytes` bytes of `text` from `offset` as a number (missing bytes count as zero; at most 6,
 * exact in a double). For two strings that share their first `offset` bytes, a smaller number
 * means a smaller string and a larger one a larger string; equal numbers decide nothing.
 */
function indexValue(text: string, offset: number, bytes: number): number {
  let value = 0
  for (let i = offset; i < offset + bytes; i++) value = value * 256 + (text.charCodeAt(i) || 0)
  return value
}

function sharedPrefixLength(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  let i = 0
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

/** Bytes per record in a chunk's index: past the shared prefix, 32 bits rarely tie in a chunk. */
const chunkIndexBytes = 4
/** The most of the shared prefix a chunk uses, so that it can check a key's as one number. */
const maximumOffset = 6
/** Bytes per chunk in the index of last records: from the start, so mostly codec and hash. */
const lastIndexBytes = 6

/**
 * A chunk's records and their index. Invariants, unless `#stale`: every record starts with the
 * same `#offset` bytes (at most `maximumOffset`, and no more than its first and last record
 * share), `#prefix` is `indexValue(records[0], 0, #offset)`, and `#values[i]` is
 * `indexValue(records[i], #offset, chunkIndexBytes)`. A search compares numbers (the key's prefix
 * with the chunk's, then the next bytes with one small contiguous array) and compares strings,
 * each a likely cache miss, only among the records whose numbers tie with the key's (usually
 * none). CIDs share their first bytes (version, codec, hash function and length), and the offset
 * skips those and what the chunk's neighbourhood in the key space has in common. The index is
 * built on the first search after appends (a restore appends every record, most of them before
 * any search).
 */
class Chunk {
  readonly records: string[]
  #values: Uint32Array | undefined
  #offset = 0
  #prefix = 0
  #stale = true

  constructor(records: string[]) {
    this.records = records
  }

  get last(): string {
    return this.records[this.records.length - 1]!
  }

  #reindex(): void {
    const records = this.records
    if (this.#values === undefined) this.#values = new Uint32Array(chunkSize + 1)
    const values = this.#values
    const offset = Math.min(
      maximumOffset,
      sharedPrefixLength(records[0]!, records[records.length - 1]!),
    )
    for (let i = 0; i < records.length; i++) {
      values[i] = indexValue(records[i]!, offset, chunkIndexBytes)
    }
    this.#offset = offset
    this.#prefix = indexValue(records[0]!, 0, offset)
    this.#stale = false
  }

  /** The position of the first record above the key (the key is a CID or a record). */
  positionOf(key: string): number {
    const records = this.records
    const length = records.length
    if (this.#stale) this.#reindex()
    const offset = this.#offset
    if (key.length < offset) {
      // Too short to share the prefix (a short identity CID): above or below every record.
      return key < records[0]! ? 0 : length
    }
    // A key that does not share the prefix is above or below every record.
    const prefix = indexValue(key, 0, offset)
    if (prefix !== this.#prefix) return prefix < this.#prefix ? 0 : length
    const value = indexValue(key, offset, chunkIndexBytes)
    const values = this.#values!
    // [low, high): the records whose numbers tie with the key's; those below are below the key
    // and those above are above it.
    let low = 0
    let high = length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (values[middle]! < value) low = middle + 1
      else high = middle
    }
    high = low
    while (high < length && values[high] === value) high++
    while (low < high) {
      const middle = (low + high) >>> 1
      if (key < records[middle]!) high = middle
      else low = middle + 1
    }
    return low
  }

  insert(position: number, record: string): void {
    const records = this.records
    records.splice(position, 0, record)
    if (this.#stale) return
    const last = records.length - 1
    // A new first or last record may share less with the other end than the offset.
    if (position === 0 || position === last) {
      if (sharedPrefixLength(records[0]!, records[last]!) < this.#offset) {
        this.#reindex()
        return
      }
    }
    const values = this.#values!
    values.copyWithin(position + 1, position, last)
    values[position] = indexValue(record, this.#offset, chunkIndexBytes)
  }

  /** Adds a record above the others; the index waits for the next search. */
  append(record: string): void {
    this.records.push(record)
    this.#stale = true
  }

  /** Replaces the record at `position` with another of the same CID. */
  replace(position: number, record: string): void {
    this.records[position] = record
    // The offset stays within the CIDs (two CIDs differ before the shorter one ends; a lone
    // record's index is never read), but the indexed bytes may reach past the CID.
    if (!this.#stale) this.#values![position] = indexValue(record, this.#offset, chunkIndexBytes)
  }

  /**
   * Removes the record at `position`. The offset stays: the records left still share that
   * prefix (a longer one may now be shared, and the next reindex finds it).
   */
  remove(position: number): void {
    this.records.splice(position, 1)
    if (!this.#stale) this.#values!.copyWithin(position, position + 1, this.records.length + 1)
  }

  /** Moves the records from `from` on to a new chunk. */
  splitAt(from: number): Chunk {
    const upper = new Chunk(this.records.splice(from))
    // Not needed for the index to be right (the records still share the old offset), but the
    // narrower range usually shares more, which leaves fewer ties.
    if (!this.#stale) this.#reindex()
    return upper
  }

  /** Throws if the index is built and wrong (for tests). */
  checkIndex(name: string): void {
    if (this.#stale) return
    const prefix = this.records[0]!.slice(0, this.#offset)
    if (this.#offset > maximumOffset || this.#prefix !== indexValue(prefix, 0, this.#offset)) {
      throw new Error(`${name}: the prefix is wrong`)
    }
    for (const [position, record] of this.records.entries()) {
      const value = indexValue(record, this.#offset, chunkIndexBytes)
      if (!record.startsWith(prefix) || this.#values![position] !== value) {
        throw new Error(`${name}: the index is wrong at ${position}`)
      }
    }
  }
}

export class SortedRecords {
  #chunks: Chunk[] = []
  /**
   * Invariants: `#lastRecords[i]` is the last record of `#chunks[i]`, and `#lastValues[i]` is
   * `indexValue(#lastRecords[i], 0, lastIndexBytes)`. The search for a key's chunk narrows on
   * the numbers and compares strings only where they tie with the key's. The numbers are in a
   * typed array (`#lastRecords.length` of them): in a plain array each store boxed a double.
   */
  #lastRecords: string[] = []
  #lastValues = new Float64Array(64)

  #setLast(index: number, record: string): void {
    this.#lastRecords[index] = record
    this.#lastValues[index] = indexValue(record, 0, lastIndexBytes)
  }

  #insertLast(index: number, record: string): void {
    const count = this.#lastRecords.length
    if (count === this.#lastValues.length) {
      const grown = new Float64Array(count * 2)
      grown.set(this.#lastValues)
      this.#lastValues = grown
    }
    this.#lastValues.copyWithin(index + 1, index, count)
    this.#lastRecords.splice(index, 0, record)
    this.#setLast(index, record)
  }

  #removeLast(index: number): void {
    this.#lastRecords.splice(index, 1)
    this.#lastValues.copyWithin(index, index + 1, this.#lastRecords.length + 1)
  }

  #size = 0
  /** Bumped on every change so iterators can tell they must find their place again. */
  version = 0

  get size(): number {
    return this.#size
  }

  /** The chunk that holds or would hold the key: the first whose last record is above it. */
  #chunkFor(key: string): number {
    const lastValues = this.#lastValues
    const count = this.#lastRecords.length
    if (count === 0) return -1
    const value = indexValue(key, 0, lastIndexBytes)
    // The first chunk whose number is not below the key's: those before end below the key.
    let low = 0
    let high = count
    while (low < high) {
      const middle = (low + high) >>> 1
      if (lastValues[middle]! < value) low = middle + 1
      else high = middle
    }
    // Ties decide by the strings; a larger number is a last record above the key.
    const lastRecords = this.#lastRecords
    while (low < count && lastValues[low] === value && !(key < lastRecords[low]!)) low++
    return low < count ? low : count - 1
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
    const position = chunk.positionOf(key)
    this.#foundKey = key
    this.#foundVersion = this.version
    this.#foundIndex = index
    this.#foundPosition = position
    const record = chunk.records[position]
    return record?.startsWith(key) ? record : undefined
  }

  /** Inserts or replaces the record of `key`; returns the record it replaced. */
  set(key: string, record: string): string | undefined {
    this.version++
    const chunks = this.#chunks
    if (chunks.length === 0) {
      chunks.push(new Chunk([record]))
      this.#insertLast(0, record)
      this.#size = 1
      return undefined
    }
    const known = this.#foundKey === key && this.#foundVersion === this.version - 1
    this.#foundKey = null
    const index = known ? this.#foundIndex : this.#chunkFor(key)
    const chunk = chunks[index]!
    const records = chunk.records
    const position = known ? this.#foundPosition : chunk.positionOf(key)
    const existing = records[position]
    if (existing?.startsWith(key)) {
      chunk.replace(position, record)
      if (position === records.length - 1) this.#setLast(index, record)
      return existing
    }
    chunk.insert(position, record)
    this.#size++
    // At the end only in the last chunk: the search picks the first chunk whose last record is
    // above the key.
    if (position === records.length - 1) this.#setLast(index, record)
    if (records.length > chunkSize) {
      // Appending in order (a restore, an import of sorted CIDs) leaves full chunks behind.
      const split =
        position === records.length - 1 && index === chunks.length - 1
          ? chunkSize
          : records.length >>> 1
      const upper = chunk.splitAt(split)
      chunks.splice(index + 1, 0, upper)
      this.#insertLast(index + 1, upper.last)
      this.#setLast(index, chunk.last)
    }
    return undefined
  }

  /** Removes the record of `key`; returns it. */
  delete(key: string): string | undefined {
    const index = this.#chunkFor(key)
    if (index < 0) return undefined
    const chunks = this.#chunks
    const chunk = chunks[index]!
    const records = chunk.records
    const position = chunk.positionOf(key)
    const existing = records[position]
    if (!existing?.startsWith(key)) return undefined
    this.version++
    this.#size--
    if (records.length === 1) {
      chunks.splice(index, 1)
      this.#removeLast(index)
      return existing
    }
    chunk.remove(position)
    if (position === records.length) this.#setLast(index, chunk.last)
    if (records.length < chunkSize >>> 2) {
      // Merge a thin chunk into its next neighbour when both fit in half a chunk.
      const next = chunks[index + 1]
      if (next !== undefined && records.length + next.records.length <= chunkSize >>> 1) {
        chunks[index] = new Chunk(records.concat(next.records))
        chunks.splice(index + 1, 1)
        this.#removeLast(index)
      }
    }
    return existing
  }

  /** Appends a record above every other one (the caller checks the order). */
  append(record: string): void {
    this.version++
    const chunks = this.#chunks
    const last = chunks[chunks.length - 1]
    if (last === undefined || last.records.length >= chunkSize) {
      chunks.push(new Chunk([record]))
      this.#insertLast(chunks.length - 1, record)
    } else {
      last.append(record)
      this.#setLast(chunks.length - 1, record)
    }
    this.#size++
  }

  /** The last record, if any. */
  last(): string | undefined {
    return this.#lastRecords[this.#lastRecords.length - 1]
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
          ;[chunkIndex, position] = this.#after(recordKey(lastRecord))
        }
      }
      const chunk = this.#chunks[chunkIndex]
      if (chunk === undefined) return
      if (position >= chunk.records.length) {
        chunkIndex++
        position = 0
        continue
      }
      lastRecord = chunk.records[position++]!
      yield lastRecord
    }
  }

  #after(key: string): [number, number] {
    const index = this.#chunkFor(key)
    if (index < 0) return [0, 0]
    const chunk = this.#chunks[index]!
    let position = chunk.positionOf(key)
    if (chunk.records[position]?.startsWith(key)) position++
    return [index, position]
  }

  /** The number of chunks (for tests of the structure). */
  get chunkCount(): number {
    return this.#chunks.length
  }

  /**
   * Throws if the structure's invariants do not hold (for tests): chunks non-empty and of at most
   * `chunkSize` records, in order within and across chunks, `size` their sum, each chunk's index
   * right for its records, and each chunk's last record the very string `#lastRecords` holds for
   * it (a stale one would still be found by the search, but would keep a dropped record alive).
   */
  checkStructure(): void {
    const chunks = this.#chunks
    if (this.#lastRecords.length !== chunks.length) {
      throw new Error(`${chunks.length} chunks but ${this.#lastRecords.length} last records`)
    }
    let total = 0
    let previous: string | undefined
    for (const [index, chunk] of chunks.entries()) {
      const records = chunk.records
      if (records.length === 0 || records.length > chunkSize) {
        throw new Error(`chunk ${index} holds ${records.length} records`)
      }
      for (const record of records) {
        if (previous !== undefined && !(previous < record)) {
          throw new Error(`chunk ${index}: records out of order`)
        }
        previous = record
      }
      chunk.checkIndex(`chunk ${index}`)
      const last = records[records.length - 1]!
      if (
        this.#lastRecords[index] !== last ||
        this.#lastValues[index] !== indexValue(last, 0, lastIndexBytes)
      ) {
        throw new Error(`chunk ${index}: its last record is not the one the search compares with`)
      }
      total += records.length
    }
    if (total !== this.#size) throw new Error(`size ${this.#size} but ${total} records`)
  }
}
