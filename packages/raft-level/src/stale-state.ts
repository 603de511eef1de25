import type { StoredSnapshot } from '@pinraft/raft-core'
import type { DamagedSnapshot } from './snapshot-store.ts'

/**
 * Found on open when this peer's local data can no longer rebuild the state it had: its newest
 * snapshot is damaged (or gone) and its log does not reach back to an older usable one. Raft
 * still runs (the leader sends the missing entries or a snapshot), but until then the peer's
 * state machine is older than what it had applied, so it must not report ready or serve local
 * reads as current.
 */
export interface StaleState {
  /** The index up to which the local data rebuilds the state (usable snapshot, then the log). */
  readonly rebuildableThrough: number
  /** The index this peer is known to have reached: its commit index, or a damaged snapshot's. */
  readonly knownThrough: number
  /** The snapshot the peer restores from, if any. */
  readonly usableSnapshot: StoredSnapshot | undefined
  /** Damaged folders claiming to be newer than `usableSnapshot`, newest first. */
  readonly damagedSnapshots: readonly DamagedSnapshot[]
  /** What was found and what it means, for a log line or an error. */
  readonly message: string
}

export interface StaleStateInput {
  readonly location: string
  readonly commit: number
  readonly first: number
  readonly last: number
  readonly usableSnapshot: StoredSnapshot | undefined
  readonly damagedSnapshots: readonly DamagedSnapshot[]
}

/** Returns the stale state, or undefined when the local data rebuilds everything it had. */
export function findStaleState(input: StaleStateInput): StaleState | undefined {
  const { location, commit, first, last, usableSnapshot, damagedSnapshots } = input
  const snapshotIndex = usableSnapshot?.index ?? 0
  // The log extends the snapshot only if it starts right after it (or earlier).
  const rebuildableThrough = last !== 0 && first <= snapshotIndex + 1 ? last : snapshotIndex
  const knownThrough = Math.max(
    commit,
    damagedSnapshots[0]?.index ?? 0,
    first === 0 ? 0 : first - 1,
  )
  if (knownThrough <= rebuildableThrough) return undefined
  const why =
    damagedSnapshots.length > 0
      ? `its newest snapshot ${damagedSnapshots[0]!.folder} (index ${damagedSnapshots[0]!.index}) is damaged (${damagedSnapshots[0]!.reason})`
      : `the snapshot that covered the log before index ${first} is missing`
  const message = `the Raft data in ${location} can rebuild this peer's state only through index ${rebuildableThrough} (${usableSnapshot === undefined ? 'no usable snapshot' : `snapshot at index ${usableSnapshot.index}`}${last === 0 ? '' : `, log ${first} to ${last}`}), but it had reached index ${knownThrough}: ${why}. The peer starts from the older state and serves it until it catches up with a leader; to get it whole again, restore the folder from a backup, or let it catch up (the leader sends a snapshot)`
  return { rebuildableThrough, knownThrough, usableSnapshot, damagedSnapshots, message }
}
