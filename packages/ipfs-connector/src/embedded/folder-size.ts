import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Bytes used by the files under `folder` (what `repo/stat` reports as RepoSize). */
export async function folderSize(
  folder: string,
  options?: { signal?: AbortSignal },
): Promise<number> {
  let total = 0
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(folder, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
  for (const entry of entries) {
    options?.signal?.throwIfAborted()
    const path = join(folder, entry.name)
    if (entry.isDirectory()) total += await folderSize(path, options)
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size
  }
  return total
}
