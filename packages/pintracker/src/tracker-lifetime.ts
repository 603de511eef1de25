import { TrackerStoppedError } from './errors.ts'

/**
 * The tracker's stop as its parts see it: one instance is shared by the façade, the operation
 * runner and the reconciler, so one flag and one signal end them all.
 */
export class TrackerLifetime {
  #stopped = false
  /** Aborts the reconciliation passes on stop, so a hung IPFS call cannot hold stop() up. */
  readonly #stopping = new AbortController()

  get stopped(): boolean {
    return this.#stopped
  }

  /** Aborted with `TrackerStoppedError` once the tracker stops. */
  get signal(): AbortSignal {
    return this.#stopping.signal
  }

  stop(): void {
    this.#stopped = true
    this.#stopping.abort(new TrackerStoppedError())
  }
}
