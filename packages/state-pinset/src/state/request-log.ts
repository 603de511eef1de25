/**
 * The request ids of the most recently applied operations, oldest first, at most `capacity` of
 * them. It is part of the replicated state (and of snapshots), so every replica skips the same
 * retried operations.
 */
export class RequestLog {
  readonly capacity: number
  readonly #ring: string[] = []
  #start = 0
  readonly #present = new Set<string>()

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get size(): number {
    return this.#ring.length
  }

  has(requestId: string): boolean {
    return this.#present.has(requestId)
  }

  /** Records a request id (one not already present), evicting the oldest when full. */
  add(requestId: string): void {
    if (this.capacity === 0) return
    this.#present.add(requestId)
    if (this.#ring.length < this.capacity) {
      this.#ring.push(requestId)
      return
    }
    this.#present.delete(this.#ring[this.#start]!)
    this.#ring[this.#start] = requestId
    this.#start = (this.#start + 1) % this.capacity
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<string> {
    const length = this.#ring.length
    for (let i = 0; i < length; i++) yield this.#ring[(this.#start + i) % length]!
  }
}
