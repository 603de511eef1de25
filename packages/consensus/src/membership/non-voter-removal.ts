import type { Logger, RaftNode } from '@pinraft/raft-core'
import { NonVoterReaper, type NonVoterReaperInit } from './non-voter-reaper.ts'

export interface NonVoterRemovalComponents {
  readonly logger: Logger
  /** When a member last sent this peer anything (undefined: never). */
  readonly lastHeard: (peerId: string) => number | undefined
  /** Peers this leader is adding right now: never removed while their join runs. */
  readonly joining: ReadonlySet<string>
  /** Aborted at shutdown. */
  readonly signal: AbortSignal
}

/**
 * Acts on the leader's bound on non-voting members (`NonVoterReaper`): removes the members it
 * names, one removal per member at a time, and starts counting afresh whenever this peer starts
 * or stops leading.
 */
export class NonVoterRemoval {
  private readonly components: NonVoterRemovalComponents
  private readonly reaper: NonVoterReaper
  /** Members being removed right now. */
  private readonly removing = new Set<string>()
  private wasLeader = false

  constructor(components: NonVoterRemovalComponents, init: NonVoterReaperInit) {
    this.components = components
    this.reaper = new NonVoterReaper(init)
  }

  /** Runs once a second, on every peer: only a leader removes anyone. */
  check(node: Pick<RaftNode, 'role' | 'configuration' | 'removeServer'>, now: number): void {
    const leading = node.role === 'leader'
    if (leading !== this.wasLeader) {
      this.reaper.reset()
      this.wasLeader = leading
    }
    if (!leading) return
    const { logger, lastHeard, joining, signal } = this.components
    for (const removal of this.reaper.check(node.configuration, now, lastHeard)) {
      if (this.removing.has(removal.peerId) || joining.has(removal.peerId)) continue
      this.removing.add(removal.peerId)
      logger.warn('removing a member that does not vote', {
        peerId: removal.peerId,
        reason: removal.reason,
      })
      node
        .removeServer(removal.peerId, { signal })
        .catch((error: unknown) => {
          logger.warn('removing a member that does not vote failed; retrying later', {
            peerId: removal.peerId,
            error: String(error),
          })
        })
        .finally(() => this.removing.delete(removal.peerId))
    }
  }
}
