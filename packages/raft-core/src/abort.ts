/** The cancellation option every asynchronous call takes (js-libp2p's `AbortOptions`). */
export interface AbortOptions {
  signal?: AbortSignal
}
