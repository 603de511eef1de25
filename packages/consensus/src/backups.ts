import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Moves `folder` aside as the newest backup and keeps at most `keep` backups (IPFS Cluster's
 * CleanupRaft with `backups_rotate`): `raft` becomes `raft.old.0`, the previous `raft.old.0`
 * becomes `raft.old.1`, and so on; the oldest beyond `keep` are deleted. With `keep` 0 the
 * folder is deleted. Does nothing when the folder does not exist.
 */
export async function backupAndClean(folder: string, keep: number): Promise<string | null> {
  try {
    await stat(folder)
  } catch {
    return null
  }
  if (keep === 0) {
    await rm(folder, { recursive: true, force: true })
    return null
  }
  const parent = dirname(folder)
  const name = basename(folder)
  const prefix = `${name}.old.`
  const existing = (await readdir(parent))
    .filter((entry) => entry.startsWith(prefix) && /^\d+$/.test(entry.slice(prefix.length)))
    .map((entry) => Number(entry.slice(prefix.length)))
    .sort((a, b) => b - a)
  for (const generation of existing) {
    const from = join(parent, `${prefix}${generation}`)
    if (generation + 1 >= keep) {
      await rm(from, { recursive: true, force: true })
    } else {
      await rename(from, join(parent, `${prefix}${generation + 1}`))
    }
  }
  await mkdir(parent, { recursive: true })
  const backup = join(parent, `${prefix}0`)
  await rename(folder, backup)
  return backup
}
