import type { Configuration } from '@pinraft/raft-core'
import { membersOf } from './members.ts'

/** What changed between two configurations this peer applied. */
export interface PeersetChange {
  readonly added: readonly string[]
  readonly removed: readonly string[]
}

/**
 * The peerset as this peer last applied it, and the peers it (as leader) is adding: together
 * they say who may talk Raft and submit operations to this peer.
 */
export class PeersetTracker {
  private members: string[] = []
  private memberSet = new Set<string>()
  /** Peers this node, as leader, is adding: allowed to talk Raft before the change applies. */
  readonly joining = new Set<string>()

  get known(): readonly string[] {
    return this.members
  }

  isMember(peerId: string): boolean {
    return this.memberSet.has(peerId)
  }

  /** Records `configuration` as the one applied; a peer added is no longer joining. */
  update(configuration: Configuration): PeersetChange {
    const members = membersOf(configuration)
    const previous = this.memberSet
    const current = new Set(members)
    const added = members.filter((peerId) => !previous.has(peerId))
    const removed = this.members.filter((peerId) => !current.has(peerId))
    for (const peerId of added) this.joining.delete(peerId)
    this.members = members
    this.memberSet = current
    return { added, removed }
  }

  /**
   * Who may talk Raft to this peer: the latest configuration in the log (what Raft uses), the
   * applied one (which lags it while a restarted peer replays its log) and the peers this leader
   * is adding. Null when none is known: a staging peer does not know its cluster yet, so the
   * private network key is the gate until the leader's first entries tell it the members.
   */
  allowed(latest: Configuration | undefined): Set<string> | null {
    const fromLog = latest === undefined ? [] : membersOf(latest)
    const allowed = new Set([...fromLog, ...this.members, ...this.joining])
    return allowed.size === 0 ? null : allowed
  }
}
