import type { AbortOptions } from '../abort.ts'
import { AbortedError, StorageFailedError } from '../errors.ts'
import type { HardState } from '../types.ts'
import type { StableStore } from './stable-store.ts'

/**
 * A `StableStore` held in memory: for tests and simulations. The state is copied in and out.
 *
 * `failNext()` / `fail()` inject a write failure; the store then refuses every later `save` with
 * a `StorageFailedError` (fail-stop), as a durable store must. `load` keeps working.
 */
export class MemoryStableStore implements StableStore {
  #state: HardState | undefined
  #failure: Error | undefined
  #pendingFailure: Error | undefined

  /** Makes the next `save` fail with `cause`, and the store fail-stop from then on. */
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

  async load(options?: AbortOptions): Promise<HardState | undefined> {
    checkSignal(options)
    return this.#state === undefined ? undefined : copyHardState(this.#state)
  }

  async save(state: HardState, options?: AbortOptions): Promise<void> {
    checkSignal(options)
    if (this.#failure !== undefined) {
      throw new StorageFailedError(
        `the stable store failed earlier (${this.#failure.message}) and refuses every write; reopen it`,
        { cause: this.#failure },
      )
    }
    const cause = this.#pendingFailure
    if (cause !== undefined) {
      this.#pendingFailure = undefined
      this.#failure = cause
      throw new StorageFailedError(
        `the stable store failed to write (${cause.message}); it refuses every further write until reopened`,
        { cause },
      )
    }
    this.#state = copyHardState(state)
  }
}

export function memoryStableStore(): MemoryStableStore {
  return new MemoryStableStore()
}

function copyHardState(state: HardState): HardState {
  return { term: state.term, vote: state.vote, commit: state.commit }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}
