/**
 * What waits for entries to apply, by log index: a ring of slots spanning the lowest to the
 * highest pending index. Entries apply in index order, so the head is taken first and every
 * lookup is an offset; the ring is reallocated only to grow.
 *
 * Why not a `Map`: a Map's table is rehashed as entries come and go, and each discarded table
 * keeps a link to its successor (for live iterators). Once one table had outlived a scavenge in
 * old space, every later table and what it held were kept by the dead one before it and promoted
 * too, until a full collection broke the chain: at a million proposals a second about 9 MB per
 * scavenge, and half the throughput (`bench/run.ts`, 256 proposers).
 */
export class PendingProposals<Pending> {
  // Invariants: #size counts the filled slots; #count === 0 when #size is, else the slot of
  // #first is filled; the slot of index i (#first <= i < #first + #count) is
  // #slots[(#head + i - #first) & mask]; slots outside that span are undefined; the capacity
  // (#slots.length) is a power of two.
  #slots: Array<Pending | undefined> = new Array<Pending | undefined>(16).fill(undefined)
  #head = 0
  #first = 0
  #count = 0
  #size = 0

  /** How many are pending. */
  get size(): number {
    return this.#size
  }

  get(index: number): Pending | undefined {
    const offset = index - this.#first
    if (offset < 0 || offset >= this.#count) return undefined
    return this.#slots[(this.#head + offset) & (this.#slots.length - 1)]
  }

  /** Makes `pending` wait for `index`; returns what waited there before (its entry is gone). */
  set(index: number, pending: Pending): Pending | undefined {
    if (this.#count === 0) {
      this.#first = index
      this.#head = 0
      this.#count = 1
      this.#slots[0] = pending
      this.#size = 1
      return undefined
    }
    if (index < this.#first) {
      // Below the span: only after this node's log was cut back and it leads again.
      const extra = this.#first - index
      this.#reserve(this.#count + extra)
      this.#head = (this.#head - extra) & (this.#slots.length - 1)
      this.#first = index
      this.#count += extra
    } else if (index >= this.#first + this.#count) {
      this.#reserve(index - this.#first + 1)
      this.#count = index - this.#first + 1
    }
    const slot = (this.#head + index - this.#first) & (this.#slots.length - 1)
    const previous = this.#slots[slot]
    this.#slots[slot] = pending
    if (previous === undefined) this.#size++
    return previous
  }

  /** Removes and returns what waits for `index`. */
  take(index: number): Pending | undefined {
    const offset = index - this.#first
    if (offset < 0 || offset >= this.#count) return undefined
    const mask = this.#slots.length - 1
    const slot = (this.#head + offset) & mask
    const pending = this.#slots[slot]
    if (pending === undefined) return undefined
    this.#slots[slot] = undefined
    this.#size--
    if (this.#size === 0) {
      this.#head = 0
      this.#count = 0
    } else if (offset === 0) {
      // Past the holes too (entries nothing waited for), so that the head is always filled.
      do {
        this.#head = (this.#head + 1) & mask
        this.#first++
        this.#count--
      } while (this.#slots[this.#head] === undefined)
    }
    return pending
  }

  /** Removes and returns, lowest index first, everything that waits for `index` or below. */
  takeThrough(index: number): Array<[number, Pending]> {
    const taken: Array<[number, Pending]> = []
    while (this.#count > 0 && this.#first <= index) {
      const first = this.#first
      taken.push([first, this.take(first) as Pending])
    }
    return taken
  }

  /** Removes and returns everything, lowest index first. */
  takeAll(): Pending[] {
    const taken: Pending[] = []
    const mask = this.#slots.length - 1
    for (let offset = 0; offset < this.#count; offset++) {
      const slot = (this.#head + offset) & mask
      const pending = this.#slots[slot]
      if (pending === undefined) continue
      this.#slots[slot] = undefined
      taken.push(pending)
    }
    this.#head = 0
    this.#count = 0
    this.#size = 0
    return taken
  }

  /** Grows the ring to hold a span of `count`, keeping the span's order. */
  #reserve(count: number): void {
    const capacity = this.#slots.length
    if (count <= capacity) return
    let grown = capacity * 2
    while (grown < count) grown *= 2
    const slots = new Array<Pending | undefined>(grown).fill(undefined)
    for (let offset = 0; offset < this.#count; offset++) {
      slots[offset] = this.#slots[(this.#head + offset) & (capacity - 1)]
    }
    this.#slots = slots
    this.#head = 0
  }
}
