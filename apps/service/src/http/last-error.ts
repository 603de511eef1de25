/** The last error a peer met, as the dashboard and `GET /raft/status` show it. */
export interface LastError {
  readonly message: string
  /** RFC 3339. */
  readonly time: string
}

/**
 * Keeps the last server-side error this peer answered (a 5xx: no leader, a timeout, an internal
 * failure), so an operator sees it without reading the log. Only the newest is kept: it is a
 * hint, the log has the history.
 */
export class LastErrorRecorder {
  #last: LastError | null = null
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  record(message: string): void {
    this.#last = { message, time: new Date(this.#now()).toISOString() }
  }

  last(): LastError | null {
    return this.#last
  }
}
