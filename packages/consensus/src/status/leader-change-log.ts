import type { Logger } from '@pinraft/raft-core'
import { RateLimiter } from './rate-limiter.ts'

/**
 * Leader changes, at most one line a second; a change held back is logged when the second is
 * over, with the leader known then, so the last line always tells the present.
 */
export class LeaderChangeLog {
  private readonly limiter = new RateLimiter(1000)
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly logger: Logger
  private readonly selfId: string
  /** The leader and term now, or null once consensus stopped. */
  private readonly current: () => { leader: string | null; term: number } | null

  constructor(
    logger: Logger,
    selfId: string,
    current: () => { leader: string | null; term: number } | null,
  ) {
    this.logger = logger
    this.selfId = selfId
    this.current = current
  }

  log(leader: string | null, term: number): void {
    const suppressed = this.limiter.allow('leader')
    if (suppressed === null) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        const now = this.current()
        if (now !== null) this.log(now.leader, now.term)
      }, 1000)
      this.timer.unref?.()
      return
    }
    if (leader === null) {
      this.logger.info('no leader known: waiting for an election', { term, suppressed })
    } else {
      this.logger.info(leader === this.selfId ? 'this peer is the leader' : 'new leader', {
        leader,
        term,
        suppressed,
      })
    }
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}
