export type EventListenerFor<T> = (event: CustomEvent<T>) => void

/**
 * Typed events in the style of js-libp2p's TypedEventEmitter, without a dependency: listeners
 * get a `CustomEvent` whose `detail` has the type the event map gives its name. Built on the
 * runtime's EventTarget, so it works wherever raft-core runs.
 */
export class TypedEventTarget<EventMap extends object> {
  private readonly target = new EventTarget()
  /** Event types that have had a listener (never forgotten: an over-estimate is harmless). */
  private readonly listened = new Set<string>()

  addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: EventListenerFor<EventMap[K]>,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void {
    this.listened.add(type)
    this.target.addEventListener(type, listener as (event: Event) => void, options)
  }

  removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: EventListenerFor<EventMap[K]>,
  ): void {
    this.target.removeEventListener(type, listener as (event: Event) => void)
  }

  /**
   * False when nobody ever listened to `type`: a caller may then skip building the event's
   * detail (on hot paths such as one event per pin).
   */
  protected listens(type: keyof EventMap & string): boolean {
    return this.listened.has(type)
  }

  protected dispatch<K extends keyof EventMap & string>(type: K, detail: EventMap[K]): void {
    this.target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
