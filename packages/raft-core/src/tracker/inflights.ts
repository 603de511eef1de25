/**
 * The appends a leader has sent to one follower and not yet seen acknowledged, bounded in count
 * and in bytes (etcd-io/raft's Inflights). Flow control: while full, the leader stops sending.
 *
 * Invariant: `indexes` is strictly increasing; `bytes` is the sum of `sizes`.
 */
export class Inflights {
  private readonly indexes: number[] = []
  private readonly sizes: number[] = []
  private head = 0
  private bytes = 0
  readonly maxCount: number
  readonly maxBytes: number

  constructor(maxCount: number, maxBytes: number) {
    this.maxCount = maxCount
    this.maxBytes = maxBytes
  }

  get count(): number {
    return this.indexes.length - this.head
  }

  get totalBytes(): number {
    return this.bytes
  }

  /** Records an append whose last entry is `index`, carrying `size` bytes of entries. */
  add(index: number, size: number): void {
    this.indexes.push(index)
    this.sizes.push(size)
    this.bytes += size
  }

  /** Forgets every append up to and including `index`: the follower has it. */
  freeLE(index: number): void {
    while (this.head < this.indexes.length && (this.indexes[this.head] ?? Infinity) <= index) {
      this.bytes -= this.sizes[this.head] ?? 0
      this.head++
    }
    if (this.head > 64 && this.head * 2 > this.indexes.length) {
      this.indexes.splice(0, this.head)
      this.sizes.splice(0, this.head)
      this.head = 0
    }
  }

  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes)
  }

  reset(): void {
    this.indexes.length = 0
    this.sizes.length = 0
    this.head = 0
    this.bytes = 0
  }
}
