import type { AbortOptions } from '@pinraft/consensus'
import { ClusterStoppedError } from './errors.ts'

/**
 * The cluster's stop as its calls see it: whether it stopped, and signals that follow a caller's
 * abort and the stop. One instance is shared by the cluster's parts, so one stop ends them all.
 */
export class ClusterLifetime {
  #stopped = false
  readonly #stopping = new AbortController()

  get stopped(): boolean {
    return this.#stopped
  }

  /** Aborted with `ClusterStoppedError` once the cluster stops. */
  get signal(): AbortSignal {
    return this.#stopping.signal
  }

  stop(): void {
    this.#stopped = true
    this.#stopping.abort(new ClusterStoppedError())
  }

  /**
   * The signal for what outlives the call that starts it (an async iterable): it follows the
   * caller's signal and the cluster's stop through `AbortSignal.any`, which lets go of it with
   * them. A call that settles uses `withSignal`.
   */
  streamSignal(options?: AbortOptions): AbortSignal {
    if (this.#stopped) throw new ClusterStoppedError()
    return options?.signal === undefined
      ? this.#stopping.signal
      : AbortSignal.any([options.signal, this.#stopping.signal])
  }

  /**
   * Runs `body` with a signal that follows the caller's signal and the cluster's stop: one
   * controller and two listeners, removed once `body` settles. `AbortSignal.any`'s weak
   * references cost more per pin than the rest of the call's signal handling put together.
   */
  async withSignal<T>(
    options: AbortOptions | undefined,
    body: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.#stopped) throw new ClusterStoppedError()
    const outer = options?.signal
    if (outer === undefined) return body(this.#stopping.signal)
    outer.throwIfAborted()
    const controller = new AbortController()
    const stopping = this.#stopping.signal
    const onOuter = () => controller.abort(outer.reason)
    const onStopping = () => controller.abort(stopping.reason)
    outer.addEventListener('abort', onOuter, { once: true })
    stopping.addEventListener('abort', onStopping, { once: true })
    try {
      return await body(controller.signal)
    } finally {
      outer.removeEventListener('abort', onOuter)
      stopping.removeEventListener('abort', onStopping)
    }
  }
}
