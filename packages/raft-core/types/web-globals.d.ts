// Included only by tsconfig.build.json. raft-core is compiled without the DOM or Node type libraries so that nothing runtime-specific
// slips in. These WHATWG classes exist in every JavaScript runtime it targets
// (browsers, Node, Deno, Bun, workers); only the members raft-core uses are declared.
declare class TextEncoder {
  encode(input?: string): Uint8Array
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean })
  decode(input?: Uint8Array): string
}
interface AbortSignal {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}
declare function setTimeout(callback: () => void, ms?: number): unknown
declare function clearTimeout(handle: unknown): void
declare function queueMicrotask(callback: () => void): void
interface EventListenerObject {
  handleEvent(event: Event): void
}
declare class Event {
  constructor(type: string)
  readonly type: string
}
declare class CustomEvent<T = unknown> extends Event {
  constructor(type: string, init?: { detail?: T })
  readonly detail: T
}
declare class EventTarget {
  addEventListener(
    type: string,
    listener: ((event: Event) => void) | EventListenerObject | null,
    options?: { once?: boolean; signal?: AbortSignal } | boolean,
  ): void
  removeEventListener(
    type: string,
    listener: ((event: Event) => void) | EventListenerObject | null,
  ): void
  dispatchEvent(event: Event): boolean
}
declare class AbortController {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}
