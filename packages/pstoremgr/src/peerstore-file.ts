import { open, readFile, rename, rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { AbortError, type AbortOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { PeerstoreFileError } from './errors.ts'
import { formatPeerstoreFile, type PeerstoreEntry, parsePeerstoreFile } from './peerstore-format.ts'

/**
 * Reads and parses a peerstore file. A missing file is an empty peerstore (a first start); a
 * file that cannot be read throws `PeerstoreFileError`, and a bad line `InvalidMultiaddrError`.
 */
export async function loadPeerstoreFile(
  path: string,
  options: AbortOptions = {},
): Promise<PeerstoreEntry[]> {
  let content: string
  try {
    content = await readFile(path, { encoding: 'utf8', signal: options.signal })
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return []
    if (isAborted(options.signal)) throw new AbortError('loading the peerstore was aborted')
    throw new PeerstoreFileError(
      path,
      `cannot be read (${(err as Error).message}); check that it is a readable file`,
      { cause: err },
    )
  }
  return parsePeerstoreFile(content, { source: path })
}

/** Saves in progress, by absolute path: saves of one file run one after the other. */
const saving = new Map<string, Promise<void>>()

/**
 * Replaces the peerstore file with `multiaddrs`, one per line, atomically: the content goes to
 * `<path>.tmp`, which is flushed to disk, renamed over `path`, and the folder flushed in turn.
 * A crash at any point leaves either the old file or the new one, never a mix. Resolves only
 * once the new file is on disk; any failure throws `PeerstoreFileError` (and leaves the old
 * file in place when it happens before the rename).
 */
export async function savePeerstoreFile(
  path: string,
  multiaddrs: ReadonlyArray<Multiaddr | string>,
  options: AbortOptions = {},
): Promise<void> {
  // Validate before touching the disk: a file we write must load again.
  const content = formatPeerstoreFile(multiaddrs)
  const target = resolve(path)
  const previous = saving.get(target) ?? Promise.resolve()
  const current = previous.catch(() => {}).then(() => replaceFile(target, content, options.signal))
  saving.set(target, current)
  try {
    await current
  } finally {
    if (saving.get(target) === current) saving.delete(target)
  }
}

async function replaceFile(path: string, content: string, signal?: AbortSignal): Promise<void> {
  if (isAborted(signal)) throw new AbortError('saving the peerstore was aborted')
  // A fixed name: a temporary file left by a crash is simply overwritten by the next save.
  const temporary = `${path}.tmp`
  try {
    const handle = await open(temporary, 'w', 0o644)
    try {
      await handle.writeFile(content, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    await rm(temporary, { force: true }).catch(() => {})
    throw new PeerstoreFileError(
      path,
      `could not write ${temporary} (${(err as Error).message}); the previous file is unchanged`,
      { cause: err },
    )
  }
  if (isAborted(signal)) {
    await rm(temporary, { force: true }).catch(() => {})
    throw new AbortError('saving the peerstore was aborted')
  }
  try {
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true }).catch(() => {})
    throw new PeerstoreFileError(
      path,
      `could not rename ${temporary} over it (${(err as Error).message}); the previous file is unchanged`,
      { cause: err },
    )
  }
  try {
    await syncFolder(dirname(path))
  } catch (err) {
    throw new PeerstoreFileError(
      path,
      `was replaced but its folder could not be flushed to disk (${(err as Error).message}); ` +
        'the new content may not survive a power loss',
      { cause: err },
    )
  }
}

/** Flushes a folder, so a rename inside it survives a power loss. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r')
  try {
    await handle.sync()
  } catch (err) {
    // Some file systems cannot flush a folder at all; nothing more can be done there.
    if (errorCode(err) !== 'EINVAL' && errorCode(err) !== 'ENOTSUP') throw err
  } finally {
    await handle.close()
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** A function, not an inline check, so the compiler does not assume the signal never changes. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}
