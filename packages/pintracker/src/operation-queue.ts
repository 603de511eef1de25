import type { Operation } from './operation.ts'

/**
 * A bounded FIFO of operations (one of 1.x's buffered channels). Entries are not removed when
 * an operation is replaced: the worker skips canceled ones, as 1.x's opWorker does.
 */
export class OperationQueue {
  readonly capacity: number
  #items: (Operation | undefined)[] = []
  #head = 0

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get size(): number {
    return this.#items.length - this.#head
  }

  /** False when full (the caller reports `FullQueueError`). */
  push(operation: Operation): boolean {
    if (this.size >= this.capacity) return false
    this.#items.push(operation)
    return true
  }

  shift(): Operation | undefined {
    while (this.#head < this.#items.length) {
      const operation = this.#items[this.#head]
      this.#items[this.#head] = undefined
      this.#head++
      // Compact now and then so the array does not grow forever.
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head)
        this.#head = 0
      }
      if (operation !== undefined && !operation.canceled) return operation
    }
    return undefined
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}
