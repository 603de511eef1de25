import type { BinaryReader, ByteWriter } from '../encoding/bytes.ts'
import { DecodeFailure } from '../encoding/bytes.ts'

/**
 * The peer IDs that pins in memory refer to, each stored once: records hold a small index
 * instead of a 34–38 byte peer ID per allocation. Reference counts free an entry when no pin
 * names it any more. Indexes depend on history, so they never leave memory: snapshots rewrite
 * them (see `PeerDictionaryWriter`).
 */
export class PeerTable {
  readonly #ids: (string | undefined)[] = []
  readonly #counts: number[] = []
  readonly #indexes = new Map<string, number>()
  readonly #free: number[] = []

  get size(): number {
    return this.#indexes.size
  }

  /** The index of `peerId`, counting one more reference to it. */
  acquire(peerId: string): number {
    let index = this.#indexes.get(peerId)
    if (index === undefined) {
      index = this.#free.pop() ?? this.#ids.length
      this.#ids[index] = peerId
      this.#counts[index] = 0
      this.#indexes.set(peerId, index)
    }
    this.#counts[index]!++
    return index
  }

  release(index: number): void {
    const count = this.#counts[index]! - 1
    this.#counts[index] = count
    if (count === 0) {
      this.#indexes.delete(this.#ids[index]!)
      this.#ids[index] = undefined
      this.#free.push(index)
    }
  }

  id(index: number): string {
    const peerId = this.#ids[index]
    if (peerId === undefined) throw new DecodeFailure(`peer index ${index} is not in use`)
    return peerId
  }

  /**
   * Throws unless the table holds exactly the peers in `references` (index → how many references
   * the pins hold), each counted that many times (for tests).
   */
  checkCounts(references: ReadonlyMap<number, number>): void {
    for (const [index, count] of references) {
      if (this.#counts[index] !== count || this.#ids[index] === undefined) {
        throw new Error(`peer ${index}: ${count} references but a count of ${this.#counts[index]}`)
      }
    }
    if (this.#indexes.size !== references.size) {
      throw new Error(`${this.#indexes.size} peers held but ${references.size} referenced`)
    }
  }

  /** Writes a reference that acquires the peer. */
  readonly writeAcquiring = (writer: ByteWriter, peerId: string): void => {
    writer.varint(this.acquire(peerId))
  }

  /** Reads a reference. */
  readonly read = (reader: BinaryReader): string => this.id(reader.varint())

  /** Reads a reference and releases it. */
  readonly readReleasing = (reader: BinaryReader): string => {
    const index = reader.varint()
    const peerId = this.id(index)
    this.release(index)
    return peerId
  }
}
