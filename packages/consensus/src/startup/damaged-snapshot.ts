import { basename } from 'node:path'
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

const folderName = /^(\d+)-(\d+)-[0-9a-f]+$/

/**
 * The newest damaged snapshot, if it is newer than every valid one (issue 13 §3): then this
 * peer restores an older pinset and must not call itself ready before it has applied at least
 * what the damaged snapshot held. Folders whose name gives no index are left to the store's own
 * warning: nothing says they were newer.
 */
export function newestDamagedSnapshot(inspection: SnapshotInspection): DamagedSnapshot | null {
  const startsFrom = Math.max(0, ...inspection.valid.map((snapshot) => snapshot.index))
  let newest: DamagedSnapshot | null = null
  for (const { folder, reason } of inspection.invalid) {
    const match = folderName.exec(basename(folder))
    if (match === null) continue
    const index = Number(match[2])
    if (index > startsFrom && (newest === null || index > newest.index)) {
      newest = { folder, reason, index, startsFrom }
    }
  }
  return newest
}
