import { cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Moves `folder` aside as the newest backup and keeps at most `keep` backups (IPFS Cluster's
 * CleanupRaft with `backups_rotate`): `raft` becomes `raft.old.0`, the previous `raft.old.0`
 * becomes `raft.old.1`, and so on; the oldest beyond `keep` are deleted. With `keep` 0 the
 * folder's contents are deleted. Does nothing when the folder does not exist. Returns the
 * backup's path, or null when none was made.
 */
export async function backupAndClean(folder: string, keep: number): Promise<string | null> {
  try {
    await stat(folder)
  } catch {
    return null
  }
  if (keep === 0) {
    await emptyFolder(folder)
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
  const backup = join(parent, `${prefix}0`)
  try {
    await rename(folder, backup)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // A data folder that is a mount point (its own volume) cannot be renamed (EBUSY), nor moved
    // to another filesystem (EXDEV): copy it out, then empty it in place.
    if (code !== 'EBUSY' && code !== 'EXDEV' && code !== 'EPERM') throw error
    await cp(folder, backup, { recursive: true, errorOnExist: true, force: false })
    await emptyFolder(folder)
  }
  return backup
}

/**
 * The backups `backupAndClean` made of `folder` (`raft.old.0`, `raft.old.1`, ...), newest first;
 * empty when there are none.
 */
export async function listBackups(folder: string): Promise<string[]> {
  const parent = dirname(folder)
  const prefix = `${basename(folder)}.old.`
  let entries: string[]
  try {
    entries = await readdir(parent)
  } catch {
    return []
  }
  return entries
    .filter((entry) => entry.startsWith(prefix) && /^\d+$/.test(entry.slice(prefix.length)))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
    .map((entry) => join(parent, entry))
}

/** Removes everything inside `folder`, keeping the folder itself (it may be a mount point). */
async function emptyFolder(folder: string): Promise<void> {
  for (const entry of await readdir(folder)) {
    await rm(join(folder, entry), { recursive: true, force: true })
  }
  await mkdir(folder, { recursive: true })
}
