export type EventListenerFor<T> = (event: CustomEvent<T>) => void

/**
 * Typed events in the style of js-libp2p's TypedEventEmitter, without a dependency: listeners
 * get a `CustomEvent` whose `detail` has the type the event map gives its name. Built on the
 * runtime's EventTarget, so it works wherever raft-core runs.
 */
export class TypedEventTarget<EventMap extends object> {
  private readonly target = new EventTarget()

  addEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: EventListenerFor<EventMap[K]>,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void {
    this.target.addEventListener(type, listener as (event: Event) => void, options)
  }

  removeEventListener<K extends keyof EventMap & string>(
    type: K,
    listener: EventListenerFor<EventMap[K]>,
  ): void {
    this.target.removeEventListener(type, listener as (event: Event) => void)
  }

  protected dispatch<K extends keyof EventMap & string>(type: K, detail: EventMap[K]): void {
    this.target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
