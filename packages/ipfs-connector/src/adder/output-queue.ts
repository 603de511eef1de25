/**
 * A one-consumer queue between a producer callback and an async generator: the adder's progress
 * callbacks push, the generator yields as soon as something arrives.
 */
export class OutputQueue<T> {
  readonly #items: T[] = []
  #wake: (() => void) | undefined
  #done = false
  #failure: { error: unknown } | undefined

  push(item: T): void {
    this.#items.push(item)
    this.#wake?.()
  }

  end(failure?: { error: unknown }): void {
    this.#done = true
    this.#failure = failure
    this.#wake?.()
  }

  async *drain(): AsyncGenerator<T> {
    while (true) {
      while (this.#items.length > 0) yield this.#items.shift() as T
      if (this.#done) {
        if (this.#failure !== undefined) throw this.#failure.error
        return
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = undefined
    }
  }
}
