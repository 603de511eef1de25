import type { AbortOptions } from '../abort.ts'
import { AbortedError } from '../errors.ts'
import type { HardState } from '../types.ts'
import { FailStopStore } from './fail-stop.ts'
import type { StableStore } from './stable-store.ts'

/**
 * A `StableStore` held in memory: for tests and simulations. The state is copied in and out.
 *
 * `failNext()` / `fail()` inject a write failure; the store then refuses every later `save` with
 * a `StorageFailedError` (fail-stop), as a durable store must. `load` keeps working.
 */
export class MemoryStableStore extends FailStopStore implements StableStore {
  #state: HardState | undefined

  constructor() {
    super('stable store')
  }

  async load(options?: AbortOptions): Promise<HardState | undefined> {
    checkSignal(options)
    return this.#state === undefined ? undefined : copyHardState(this.#state)
  }

  async save(state: HardState, options?: AbortOptions): Promise<void> {
    checkSignal(options)
    this.beforeWrite()
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
