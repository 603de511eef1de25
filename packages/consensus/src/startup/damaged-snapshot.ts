import type { SnapshotInspection } from '@pinraft/raft-level'

/** A snapshot newer than the one this peer starts from, that the store refused as damaged. */
export interface DamagedSnapshot {
  readonly folder: string
  readonly reason: string
  /** The index it covered, read from its folder's name (`<term>-<index>-<random>`). */
  readonly index: number
  /** The index of the snapshot this peer starts from instead (0: none, the log only). */
  readonly startsFrom: number
}

/**
 * The newest damaged snapshot, if it is newer than every valid one (issue 13 §3): then this
 * peer restores an older pinset and must not call itself ready before it has applied at least
 * what the damaged snapshot held. raft-level's store says which damaged folders claim to be
 * newer (`newerDamaged`, newest first); folders whose name gives no index are left to its own
 * warning: nothing says they were newer.
 */
export function newestDamagedSnapshot(inspection: SnapshotInspection): DamagedSnapshot | null {
  const newest = inspection.newerDamaged[0]
  if (newest === undefined) return null
  const startsFrom = inspection.valid[0]?.index ?? 0
  return { folder: newest.folder, reason: newest.reason, index: newest.index, startsFrom }
}
