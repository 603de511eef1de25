/**
 * An EventTarget whose event names and `detail` types are checked (js-libp2p's
 * TypedEventEmitter), which also tells whether anyone listens, so the state builds event
 * details only when someone will read them.
 */
type Listener = Parameters<EventTarget['addEventListener']>[1]

/** The listener options of `addEventListener` (spelled out: Node's types keep them private). */
export interface ListenerOptions {
  capture?: boolean
  once?: boolean
  passive?: boolean
  signal?: AbortSignal
}

export class TypedEventTarget<Events extends Record<string, unknown>> extends EventTarget {
  readonly #listeners = new Map<string, number>()

  override addEventListener<K extends keyof Events & string>(
    type: K,
    listener:
      | ((event: CustomEvent<Events[K]>) => void)
      | { handleEvent(event: CustomEvent<Events[K]>): void }
      | null,
    options?: boolean | ListenerOptions,
  ): void {
    if (listener !== null) this.#listeners.set(type, (this.#listeners.get(type) ?? 0) + 1)
    super.addEventListener(type, listener as Listener, options)
  }

  override removeEventListener<K extends keyof Events & string>(
    type: K,
    listener:
      | ((event: CustomEvent<Events[K]>) => void)
      | { handleEvent(event: CustomEvent<Events[K]>): void }
      | null,
    options?: boolean | ListenerOptions,
  ): void {
    const count = this.#listeners.get(type) ?? 0
    if (listener !== null && count > 0) this.#listeners.set(type, count - 1)
    super.removeEventListener(type, listener as Listener, options)
  }

  /** True when at least one listener may be registered for `type` (an over-estimate is harmless). */
  listens(type: keyof Events & string): boolean {
    return (this.#listeners.get(type) ?? 0) > 0
  }

  /** Dispatches a CustomEvent carrying `detail`. */
  emit<K extends keyof Events & string>(type: K, detail: Events[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
