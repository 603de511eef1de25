import { Inflights } from './inflights.ts'

/**
 * How the leader replicates to a follower (etcd-io/raft's StateProbe/Replicate/Snapshot):
 * - `probe`: the leader does not know where the follower's log matches; one append per
 *   heartbeat interval until it finds out.
 * - `replicate`: appends are pipelined optimistically, bounded by the inflights window.
 * - `snapshot`: the follower needs a snapshot; nothing else is sent until it is installed or
 *   the transfer fails.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** The leader's view of one follower. */
export class Progress {
  /**
   * Invariant: 0 <= match < next. `match` is the highest index known to be replicated on the
   * follower; `next` the next index to send.
   */
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** In `probe`, true once an append was sent since the last heartbeat response. */
  probeSent = false
  /** In `snapshot`, the index of the snapshot being sent. */
  pendingSnapshot = 0
  /** Heard from since the last CheckQuorum round (thesis §6.2). */
  recentActive = false
  readonly inflights: Inflights

  constructor(next: number, maxInflightMessages: number, maxInflightBytes: number) {
    this.next = next
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes)
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Resume right after the snapshot if it was installed, else after what matches.
      const pending = this.pendingSnapshot
      this.resetState('probe')
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.resetState('probe')
      this.next = this.match + 1
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = this.match + 1
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  /**
   * Records an acknowledgement of `index`. Returns false for a stale one (already known).
   */
  maybeUpdate(index: number): boolean {
    let updated = false
    if (this.match < index) {
      this.match = index
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, index + 1)
    return updated
  }

  /**
   * Handles a rejection of the append that followed `rejected`, with the follower's hint of
   * where to probe next. Returns false when the rejection is stale.
   */
  maybeDecreaseTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      // Only a rejection of something past what matches is news; go back to just after match.
      if (rejected <= this.match) {
        return false
      }
      this.next = this.match + 1
      return true
    }
    // In probe, only the rejection of the last probe (next - 1) counts.
    if (this.next - 1 !== rejected) {
      return false
    }
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1)
    this.probeSent = false
    return true
  }

  /** Whether the leader must hold back appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }

  /** Records that an append ending at `last` (with `bytes` of entries) went out. */
  sentEntries(last: number, bytes: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = last + 1
        this.inflights.add(last, bytes)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }
}
