import type { Configuration, Logger } from '@pinraft/raft-core'
import type { ObservedTransport } from './observed-transport.ts'

export interface CatchUpVoteGuardComponents {
  readonly peerId: string
  readonly logger: Logger
  readonly observed: ObservedTransport
}

/**
 * Raft's safety assumes a voter never forgets what it acknowledged or voted (thesis §3.8; §4.2
 * on adding servers). A peer that lost its disk may still be a voter in the leader's
 * configuration, counted in the quorum: if it voted now, with an empty log and no memory of its
 * vote, a candidate lacking committed entries could win with its vote (3 voters: X committed on
 * A and this peer; A down; B, without X, wins with this vote and X is lost), or two candidates
 * could win the same term. So it withholds votes until it has caught up: promoted from staging
 * by the leader (which re-adds a rejoining member as staging and promotes it only once its log
 * matches the commit index, etcd's learner path), or ready (caught up with the leader's commit
 * index through a ReadIndex round). By then its log holds every committed entry, and it has
 * heard a leader of a term newer than the elections it may have voted in before the wipe (their
 * candidates' election timeouts expired long before a rejoin completes).
 */
export class CatchUpVoteGuard {
  private readonly components: CatchUpVoteGuardComponents
  private empty = false
  /** This peer has seen itself as a staging member (so a later promotion means it caught up). */
  private sawSelfStaging = false

  constructor(components: CatchUpVoteGuardComponents) {
    this.components = components
  }

  /** This peer started with no Raft state at all (a new disk, `state cleanup`, a wipe). */
  get startedEmpty(): boolean {
    return this.empty
  }

  /** Raft was opened; a staging peer that found no state withholds its votes. */
  opened(staging: boolean, startedEmpty: boolean): void {
    this.empty = startedEmpty
    if (staging && startedEmpty) this.components.observed.withholdVotes = true
  }

  /** A configuration was applied: a promotion from staging means this peer caught up. */
  configurationApplied(configuration: Configuration): void {
    const { peerId, observed, logger } = this.components
    if (configuration.staging.includes(peerId)) this.sawSelfStaging = true
    if (observed.withholdVotes && this.sawSelfStaging && configuration.voters.includes(peerId)) {
      observed.withholdVotes = false
      logger.info('promoted to voter after catching up: this peer votes again')
    }
  }

  /** This peer is ready: caught up with the leader's commit index. */
  caughtUp(): void {
    this.components.observed.withholdVotes = false
  }
}
