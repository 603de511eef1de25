import { copyFile, link, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Fills `copy` with the files of the LevelDB folder `original`, as hard links where the file
 * system allows (instant, no space), else as copies.
 *
 * LevelDB never changes an existing file in place (without `reuse_logs`, which classic-level
 * does not set): recovery writes new tables, a new manifest and a new log, renames `CURRENT`
 * and `LOG` over, and deletes the old files. So a LevelDB opened on the copy leaves every byte
 * of `original` as it was, however much it rewrites. Linking `LOCK` too makes LevelDB's lock
 * (an fcntl lock on that inode) conflict with another process that has `original` open.
 */
export async function makeProbeCopy(original: string, copy: string): Promise<void> {
  await rm(copy, { recursive: true, force: true })
  await mkdir(copy)
  for (const item of await readdir(original, { withFileTypes: true })) {
    if (!item.isFile()) continue
    const from = join(original, item.name)
    const to = join(copy, item.name)
    try {
      await link(from, to)
    } catch {
      await copyFile(from, to)
    }
  }
}
