import type { Logger } from '@pinraft/raft-core'
import type { Waiting } from './waiting-for.ts'

/**
 * Issue 17: a stuck peer says what it waits for, every `interval` ms while it lasts (not at the
 * first sighting: a short wait is normal).
 */
export class WaitingLog {
  private since: { kind: Waiting['kind']; since: number } | undefined
  private lastLine = 0
  private readonly logger: Logger
  private readonly interval: number

  constructor(logger: Logger, interval: number) {
    this.logger = logger
    this.interval = interval
  }

  check(waiting: Waiting | null, now: number): void {
    if (waiting === null) {
      this.since = undefined
      return
    }
    // A wait lasts from the first sighting of its kind (catching up changes its numbers).
    const kind = waiting.kind
    if (this.since === undefined || this.since.kind !== kind) {
      this.since = { kind, since: now }
      return
    }
    if (now - this.since.since < this.interval) return
    if (now - this.lastLine < this.interval) return
    this.lastLine = now
    const fields = {
      waitingFor: waiting.reason,
      seconds: Math.round((now - this.since.since) / 1000),
    }
    const line = `not ready: waiting ${waiting.reason.startsWith('to ') ? '' : 'for '}${waiting.reason}`
    if (kind === 'catch-up') this.logger.info(line, fields)
    else this.logger.warn(line, fields)
  }
}
