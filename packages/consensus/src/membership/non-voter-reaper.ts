import type { Configuration } from '@pinraft/raft-core'
import { formatDuration } from '../configuration/duration.ts'

export interface NonVoterReaperInit {
  /** A staging member not caught up this long after this leader first saw it is removed. */
  readonly stagingTimeout: number
  /** A staging or non-voting member not heard from for this long is removed. */
  readonly nonVoterTimeout: number
}

export interface Removal {
  readonly peerId: string
  readonly reason: string
}

/**
 * The leader's bound on members that do not vote (issue 13 §5): a staging member that has not
 * caught up within `staging_timeout`, or any non-voting member the leader has not heard from for
 * `non_voter_timeout`, is to be removed, so that peers that joined and went away (or never
 * came) do not stay in the peerset, nor block the next join. Times count from when this leader
 * first saw the member, so a new leader gives everyone a full period.
 */
export class NonVoterReaper {
  private readonly stagingTimeout: number
  private readonly nonVoterTimeout: number
  /** Member → when this leader first saw it without a vote. */
  private readonly since = new Map<string, number>()

  constructor(init: NonVoterReaperInit) {
    this.stagingTimeout = init.stagingTimeout
    this.nonVoterTimeout = init.nonVoterTimeout
  }

  /** Forgets everything (this node stopped leading, or just started to). */
  reset(): void {
    this.since.clear()
  }

  /**
   * The members to remove at `now`, given when each was last heard from (undefined: never).
   * Members that left the non-voting set are forgotten.
   */
  check(
    configuration: Configuration,
    now: number,
    lastHeard: (peerId: string) => number | undefined,
  ): Removal[] {
    const staging = new Set(configuration.staging)
    const current = new Set([...configuration.staging, ...configuration.nonVoters])
    for (const peerId of this.since.keys()) {
      if (!current.has(peerId)) this.since.delete(peerId)
    }
    const removals: Removal[] = []
    for (const peerId of [...current].sort()) {
      let since = this.since.get(peerId)
      if (since === undefined) {
        since = now
        this.since.set(peerId, now)
      }
      const heard = Math.max(lastHeard(peerId) ?? since, since)
      if (now - heard >= this.nonVoterTimeout) {
        removals.push({
          peerId,
          reason: `not heard from for ${formatDuration(now - heard)} (consensus.raft.non_voter_timeout is ${formatDuration(this.nonVoterTimeout)}): it went away, or cannot reach the leader`,
        })
      } else if (staging.has(peerId) && now - since >= this.stagingTimeout) {
        removals.push({
          peerId,
          reason: `still not caught up ${formatDuration(now - since)} after it was added (consensus.raft.staging_timeout is ${formatDuration(this.stagingTimeout)})`,
        })
      }
    }
    return removals
  }
}
