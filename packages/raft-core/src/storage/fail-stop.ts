import { StorageFailedError } from '../errors.ts'

/**
 * The fail-stop behaviour every in-memory store shares, with failure injection for tests:
 * `failNext()` makes the next write fail, `fail()` fails the store now; from then on every
 * write is refused with a `StorageFailedError`, as a durable store must (reads keep working).
 */
export class FailStopStore {
  readonly #name: string
  #failure: Error | undefined
  #pendingFailure: Error | undefined

  constructor(name: string) {
    this.#name = name
  }

  /** Makes the next write fail with `cause`, and the store fail-stop from then on. */
  failNext(cause: Error = new Error('injected failure')): void {
    this.#pendingFailure = cause
  }

  /** Makes the store fail-stop now, as if a write had just failed with `cause`. */
  fail(cause: Error = new Error('injected failure')): void {
    this.#failure ??= cause
  }

  /** The error that made the store fail-stop, if any. */
  get failure(): Error | undefined {
    return this.#failure
  }

  /** Throws if the store already failed. */
  protected checkWritable(): void {
    if (this.#failure !== undefined) {
      throw new StorageFailedError(
        `the ${this.#name} failed earlier (${this.#failure.message}) and refuses every write; reopen it`,
        { cause: this.#failure },
      )
    }
  }

  /** Fails this write, and the store for good, if a failure was injected for it. */
  protected takeInjectedFailure(): void {
    const cause = this.#pendingFailure
    if (cause === undefined) return
    this.#pendingFailure = undefined
    this.#failure = cause
    throw new StorageFailedError(
      `the ${this.#name} failed to write (${cause.message}); it refuses every further write until reopened`,
      { cause },
    )
  }

  protected beforeWrite(): void {
    this.checkWritable()
    this.takeInjectedFailure()
  }
}
