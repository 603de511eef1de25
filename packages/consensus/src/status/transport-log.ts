import type { Logger, Message } from '@pinraft/raft-core'
import type { MessageDroppedDetail } from '@pinraft/raft-libp2p'
import { RateLimiter } from './rate-limiter.ts'

/** At most one line per unreachable (or refused) peer in this long. */
const unreachableLogInterval = 30_000

/**
 * The lines an operator needs about Raft traffic that did not get through: unreachable
 * members, refused non-members and withheld votes, at most one line per peer and interval.
 */
export class TransportLog {
  private readonly logger: Logger
  private readonly limiter: RateLimiter

  constructor(logger: Logger, now?: () => number) {
    this.logger = logger
    this.limiter = new RateLimiter(unreachableLogInterval, now)
  }

  messageDropped(detail: MessageDroppedDetail): void {
    const { peer, direction, reason, count } = detail
    if (direction === 'outbound' && reason === 'unreachable') {
      const suppressed = this.limiter.allow(`unreachable:${peer}`)
      if (suppressed === null) return
      this.logger.warn(
        'cannot reach a member of the cluster: Raft messages to it are dropped (likely causes: it is down, its address changed, a firewall, or a different cluster secret)',
        { peer, dropped: count, suppressed },
      )
    } else if (direction === 'inbound' && reason === 'not-allowed') {
      const suppressed = this.limiter.allow(`refused:${peer}`)
      if (suppressed === null) return
      this.logger.warn(
        'refused Raft messages from a peer outside the peerset (a removed peer still running, or one that holds the cluster secret but was never added)',
        { peer, dropped: count, suppressed },
      )
    }
  }

  voteWithheld(from: string, type: Message['type'], withheld: number): void {
    const suppressed = this.limiter.allow(`withheld:${from}`)
    if (suppressed === null) return
    this.logger.info(
      "withholding this peer's vote: it started without Raft state and has not caught up yet (a voter that lost its log must not vote). If no leader gets elected without it (a two-voter cluster whose leader this was), stop it, move its backup (raft.old.0) back to its data folder and start it without --bootstrap",
      { from, request: type, withheld, suppressed },
    )
  }
}
