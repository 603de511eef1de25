import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type {
  AbortOptions,
  Logger,
  OpenedSnapshot,
  SnapshotMetadata,
  SnapshotSink,
  SnapshotStore,
  StoredSnapshot,
} from '@pinraft/raft-core'
import {
  AbortedError,
  InvalidOptionError,
  SnapshotCorruptError,
  SnapshotNotFoundError,
  StorageFailedError,
  TypedEventTarget,
} from '@pinraft/raft-core'
import { StorageClosedError } from './errors.ts'
import { warningLogger } from './logger.ts'
import {
  checkSnapshotMetadata,
  copyConfiguration,
  encodeSnapshotMeta,
  parseSnapshotMeta,
  type SnapshotMeta,
  snapshotFormatVersion,
} from './snapshot-meta.ts'

export interface FileSnapshotStoreInit {
  /** The folder that holds one sub-folder per snapshot; created if missing. */
  directory: string
  /** How many valid snapshots to keep, newest first (default 5, at least 1). */
  retain?: number
  /** Receives a warning for every folder the store will not use. */
  logger?: Logger
}

/** A folder in the snapshot directory that the store does not use, and why. */
export interface InvalidSnapshot {
  readonly folder: string
  readonly reason: string
  /** The index and term the folder's name claims, when it is named `<term>-<index>-<id>`. */
  readonly index?: number
  readonly term?: number
}

/** An invalid folder that claims to be newer than every snapshot the store lists. */
export interface DamagedSnapshot extends InvalidSnapshot {
  readonly index: number
  readonly term: number
}

export interface SnapshotInspection {
  /** What `list()` returns. */
  readonly valid: StoredSnapshot[]
  /** Folders skipped when the store opened or when reading found them damaged. */
  readonly invalid: InvalidSnapshot[]
  /** What `newerDamaged` returns. */
  readonly newerDamaged: DamagedSnapshot[]
}

export interface FileSnapshotStoreEvents {
  /**
   * A folder was found unusable: on open (before anyone could listen; see `newerDamaged`) or
   * while a snapshot was being read. `newest` is true when it claims to be newer than every
   * snapshot still listed: the state restored from this store is then older than the peer's.
   */
  'snapshot:damaged': InvalidSnapshot & { readonly newest: boolean }
}

interface Published {
  readonly stored: StoredSnapshot
  readonly folder: string
  readonly sha256: string
}

const metaFile = 'meta.json'
const stateFile = 'state.bin'
const temporarySuffix = '.tmp'
const folderPattern = /^(\d+)-(\d+)-[0-9a-f]+$/
const readChunkBytes = 64 * 1024

const whatToDoWithFolder =
  'the store ignores it; check it and delete it (or move it away) to silence this warning'

/**
 * Snapshots on the file system: `<directory>/<term>-<index>-<random>/` holding `state.bin` (the
 * data, streamed) and `meta.json` (format, index, term, configuration, size, SHA-256).
 *
 * Publishing is atomic: a sink writes into `<id>.tmp/`, syncs both files and the folder, renames
 * it and syncs the parent. Opening the store verifies every snapshot's checksum once and never
 * lists a folder that is unfinished, damaged, or whose name disagrees with its metadata (IPFS
 * Cluster issue #424): those are logged as warnings and reported by `inspect()`.
 *
 * Fail-stop: after a write or sync error, `create` and every sink reject with a
 * `StorageFailedError` until the store is reopened. One process per directory.
 */
export class FileSnapshotStore
  extends TypedEventTarget<FileSnapshotStoreEvents>
  implements SnapshotStore
{
  readonly directory: string
  readonly #retain: number
  readonly #logger: Logger
  #published: Published[] = []
  #invalid = new Map<string, string>()
  #sinks = new Set<FileSnapshotSink>()
  // Publishing and retention run one at a time.
  #publishing: Promise<unknown> = Promise.resolve()
  #failure: StorageFailedError | undefined
  #closed = false

  private constructor(init: FileSnapshotStoreInit) {
    super()
    const retain = init.retain ?? 5
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new InvalidOptionError(`retain must be an integer of at least 1, got ${String(retain)}`)
    }
    this.directory = init.directory
    this.#retain = retain
    this.#logger = init.logger ?? warningLogger
  }

  /** Opens the store, removing unfinished `.tmp` folders and verifying every snapshot. */
  static async open(init: FileSnapshotStoreInit): Promise<FileSnapshotStore> {
    const store = new FileSnapshotStore(init)
    await mkdir(store.directory, { recursive: true })
    const invalid: Array<[folder: string, reason: string]> = []
    for (const item of await readdir(store.directory, { withFileTypes: true })) {
      const folder = join(store.directory, item.name)
      if (item.name.endsWith(temporarySuffix)) {
        await rm(folder, { recursive: true, force: true })
        store.#logger.info('removed an unfinished snapshot', { folder })
        continue
      }
      const result = item.isDirectory()
        ? await verifyFolder(folder, item.name)
        : { reason: 'a file, not a snapshot folder' }
      if ('reason' in result) {
        invalid.push([folder, result.reason])
      } else {
        store.#published.push(result)
      }
    }
    store.#published.sort(newestFirst)
    // Reported once the newest valid snapshot is known, to tell whether the newest is damaged.
    for (const [folder, reason] of invalid) store.#reportInvalid(folder, reason)
    return store
  }

  /** The failure that made the store fail-stop, if any. */
  get failure(): StorageFailedError | undefined {
    return this.#failure
  }

  async create(metadata: SnapshotMetadata, options?: AbortOptions): Promise<SnapshotSink> {
    checkSignal(options)
    this.checkWritable()
    checkSnapshotMetadata(metadata)
    const id = `${metadata.term}-${metadata.index}-${randomBytes(6).toString('hex')}`
    const temporary = join(this.directory, `${id}${temporarySuffix}`)
    let handle: FileHandle
    try {
      await mkdir(temporary)
      handle = await open(join(temporary, stateFile), 'wx')
    } catch (error) {
      await rm(temporary, { recursive: true, force: true }).catch(() => {})
      throw this.fail(error, `creating ${temporary}`)
    }
    const sink = new FileSnapshotSink(this, id, temporary, handle, {
      index: metadata.index,
      term: metadata.term,
      configuration: copyConfiguration(metadata.configuration),
    })
    this.#sinks.add(sink)
    return sink
  }

  async list(options?: AbortOptions): Promise<StoredSnapshot[]> {
    checkSignal(options)
    return this.#published.map(({ stored }) => copyStored(stored))
  }

  /** The valid snapshots, and every folder the store skipped with the reason. */
  async inspect(options?: AbortOptions): Promise<SnapshotInspection> {
    checkSignal(options)
    return {
      valid: await this.list(),
      invalid: [...this.#invalid].map(([folder, reason]) => describeInvalid(folder, reason)),
      newerDamaged: this.newerDamaged,
    }
  }

  /**
   * The unusable folders whose names claim a higher index than the newest listed snapshot (than
   * 0 when none is listed), newest first; empty when the newest snapshot is fine. When not empty,
   * a peer restoring from `list()[0]` starts from an older state than it had, and must not serve
   * reads as current before it has caught up with a leader.
   */
  get newerDamaged(): DamagedSnapshot[] {
    const newest = this.#published[0]?.stored.index ?? 0
    return [...this.#invalid]
      .map(([folder, reason]) => describeInvalid(folder, reason))
      .filter(
        (invalid): invalid is DamagedSnapshot =>
          invalid.index !== undefined && invalid.index > newest,
      )
      .sort((a, b) => b.index - a.index || b.term - a.term)
  }

  async open(id: string, options?: AbortOptions): Promise<OpenedSnapshot> {
    checkSignal(options)
    const published = this.#published.find(({ stored }) => stored.id === id)
    if (published === undefined) {
      throw new SnapshotNotFoundError(
        `snapshot ${id} is not in ${this.directory} (unknown, damaged or no longer retained); call list() for the current ones`,
      )
    }
    return { metadata: copyStored(published.stored), data: this.#read(published) }
  }

  /** Aborts open sinks; later calls to `create` reject. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#sinks].map((sink) => sink.abort()))
    await this.#publishing
  }

  async *#read(published: Published): AsyncGenerator<Uint8Array> {
    const file = join(published.folder, stateFile)
    const hash = createHash('sha256')
    let size = 0
    const damaged = (what: string) => {
      const reason = `state.bin ${what}`
      this.#published = this.#published.filter((entry) => entry !== published)
      this.#reportInvalid(published.folder, reason)
      return new SnapshotCorruptError(
        `snapshot ${published.stored.id} in ${published.folder} is damaged: ${reason}. It is no longer listed; use an older snapshot or fetch one from the leader, and delete the folder`,
      )
    }
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: readChunkBytes })) {
        const bytes = chunk as Buffer
        size += bytes.byteLength
        if (size > published.stored.size)
          throw damaged(`is longer than ${published.stored.size} bytes`)
        hash.update(bytes)
        yield new Uint8Array(bytes)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SnapshotNotFoundError(
          `snapshot ${published.stored.id} was removed from ${this.directory} before it could be read (retention, or by hand); call list() for the current ones`,
        )
      }
      throw error
    }
    if (size !== published.stored.size) {
      throw damaged(`holds ${size} bytes where meta.json says ${published.stored.size}`)
    }
    if (hash.digest('hex') !== published.sha256) throw damaged('does not match its SHA-256')
  }

  /** Throws unless a write may start now. */
  checkWritable(): void {
    if (this.#closed) {
      throw new StorageClosedError(
        `the snapshot store in ${this.directory} is closed; open it again`,
      )
    }
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Makes the store fail-stop because of `error`, and returns the error to throw. */
  fail(error: unknown, doing: string): StorageFailedError {
    this.#failure ??= new StorageFailedError(
      `the snapshot store in ${this.directory} failed while ${doing} (${(error as Error).message ?? String(error)}). It refuses every further write; fix the cause (a full or failing disk?) and restart the process so that it reopens the store`,
      { cause: error },
    )
    this.#logger.error(this.#failure.message, { directory: this.directory })
    return this.#failure
  }

  forget(sink: FileSnapshotSink): void {
    this.#sinks.delete(sink)
  }

  /** Renames a finished `.tmp` folder into place, then applies retention. */
  publish(temporary: string, id: string, meta: SnapshotMeta): Promise<StoredSnapshot> {
    const result = this.#publishing.then(async () => {
      this.checkWritable()
      const folder = join(this.directory, id)
      try {
        await syncPath(temporary)
        await rename(temporary, folder)
        await syncPath(this.directory)
      } catch (error) {
        throw this.fail(error, `publishing ${folder}`)
      }
      const stored: StoredSnapshot = {
        id,
        index: meta.index,
        term: meta.term,
        configuration: copyConfiguration(meta.configuration),
        size: meta.size,
      }
      this.#published.push({ stored, folder, sha256: meta.sha256 })
      this.#published.sort(newestFirst)
      await this.#applyRetention()
      return copyStored(stored)
    })
    this.#publishing = result.catch(() => {})
    return result
  }

  async #applyRetention(): Promise<void> {
    const dropped = this.#published.splice(this.#retain)
    for (const { folder } of dropped) {
      // Renamed first so that a crash half-way through leaves a `.tmp` folder, which the next
      // open removes, rather than a half-deleted snapshot it would have to report.
      try {
        const doomed = `${folder}.${randomBytes(4).toString('hex')}${temporarySuffix}`
        await rename(folder, doomed)
        await syncPath(this.directory)
        await rm(doomed, { recursive: true, force: true })
      } catch (error) {
        // The new snapshot is durable, so its close still succeeds; later writes will not.
        this.fail(error, `removing the old snapshot ${folder}`)
        return
      }
    }
  }

  #reportInvalid(folder: string, reason: string): void {
    if (this.#invalid.get(folder) === reason) return
    this.#invalid.set(folder, reason)
    const invalid = describeInvalid(folder, reason)
    const newest =
      invalid.index !== undefined && invalid.index > (this.#published[0]?.stored.index ?? 0)
    if (newest) {
      const usable = this.#published[0]?.stored
      this.#logger.error(
        `the newest snapshot folder ${folder} (index ${invalid.index}) is damaged: ${reason}. This peer falls back to ${usable === undefined ? 'no snapshot' : `the older snapshot at index ${usable.index}`}, so its state is older than it was until it catches up with a leader; ${whatToDoWithFolder}`,
        { folder, reason },
      )
    } else {
      this.#logger.warn(`snapshot folder ${folder} is not used: ${reason}; ${whatToDoWithFolder}`, {
        folder,
        reason,
      })
    }
    this.dispatch('snapshot:damaged', { ...invalid, newest })
  }
}

/** A snapshot being written into its `.tmp` folder. */
class FileSnapshotSink implements SnapshotSink {
  readonly id: string
  readonly #store: FileSnapshotStore
  readonly #temporary: string
  readonly #handle: FileHandle
  readonly #metadata: SnapshotMetadata
  readonly #hash = createHash('sha256')
  #size = 0
  #state: 'open' | 'closing' | 'closed' | 'aborted' = 'open'
  // Writes run one after another even if the caller does not wait between them.
  #tail: Promise<void> = Promise.resolve()

  constructor(
    store: FileSnapshotStore,
    id: string,
    temporary: string,
    handle: FileHandle,
    metadata: SnapshotMetadata,
  ) {
    this.#store = store
    this.id = id
    this.#temporary = temporary
    this.#handle = handle
    this.#metadata = metadata
  }

  write(chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    try {
      checkSignal(options)
      this.#checkOpen('write')
      this.#store.checkWritable()
    } catch (error) {
      return Promise.reject(error)
    }
    const write = this.#tail.then(async () => {
      this.#store.checkWritable()
      try {
        let offset = 0
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await this.#handle.write(
            chunk,
            offset,
            chunk.byteLength - offset,
          )
          offset += bytesWritten
        }
      } catch (error) {
        throw this.#store.fail(error, `writing ${join(this.#temporary, stateFile)}`)
      }
      // Hashed after the write resolved: the caller keeps its chunk until then.
      this.#hash.update(chunk)
      this.#size += chunk.byteLength
    })
    this.#tail = write.catch(() => {})
    return write
  }

  async close(options?: AbortOptions): Promise<StoredSnapshot> {
    checkSignal(options)
    this.#checkOpen('close')
    this.#state = 'closing'
    try {
      await this.#tail
      this.#store.checkWritable()
      const meta: SnapshotMeta = {
        format: snapshotFormatVersion,
        ...this.#metadata,
        size: this.#size,
        sha256: this.#hash.digest('hex'),
      }
      try {
        await this.#handle.sync()
        await this.#handle.close()
        const metaHandle = await open(join(this.#temporary, metaFile), 'wx')
        try {
          await metaHandle.writeFile(encodeSnapshotMeta(meta))
          await metaHandle.sync()
        } finally {
          await metaHandle.close()
        }
      } catch (error) {
        throw this.#store.fail(error, `finishing ${this.#temporary}`)
      }
      const stored = await this.#store.publish(this.#temporary, this.id, meta)
      this.#state = 'closed'
      return stored
    } catch (error) {
      this.#state = 'aborted'
      await this.#discard()
      throw error
    } finally {
      this.#store.forget(this)
    }
  }

  async abort(): Promise<void> {
    if (this.#state !== 'open') return
    this.#state = 'aborted'
    await this.#tail
    await this.#discard()
    this.#store.forget(this)
  }

  async #discard(): Promise<void> {
    await this.#handle.close().catch(() => {})
    // Left behind on failure; the next open removes `.tmp` folders.
    await rm(this.#temporary, { recursive: true, force: true }).catch(() => {})
  }

  #checkOpen(operation: string): void {
    if (this.#state !== 'open') {
      throw new StorageClosedError(
        `snapshot ${this.id}: cannot ${operation}, the sink is already ${this.#state}`,
      )
    }
  }
}

export function openSnapshotStore(init: FileSnapshotStoreInit): Promise<FileSnapshotStore> {
  return FileSnapshotStore.open(init)
}

/** Checks a published folder completely; returns why it is unusable instead of throwing. */
async function verifyFolder(
  folder: string,
  name: string,
): Promise<Published | { readonly reason: string }> {
  const match = folderPattern.exec(name)
  if (match === null) return { reason: 'the folder name is not <term>-<index>-<id>' }
  let text: string
  try {
    text = await readFile(join(folder, metaFile), 'utf8')
  } catch {
    return { reason: 'meta.json is missing or unreadable (an unfinished or damaged snapshot)' }
  }
  const meta = parseSnapshotMeta(text)
  if ('reason' in meta) return meta
  if (Number(match[1]) !== meta.term || Number(match[2]) !== meta.index) {
    return {
      reason: `the folder name says term ${match[1]} and index ${match[2]}, but meta.json says term ${meta.term} and index ${meta.index}`,
    }
  }
  const file = join(folder, stateFile)
  try {
    const { size } = await stat(file)
    if (size !== meta.size) {
      return { reason: `state.bin holds ${size} bytes where meta.json says ${meta.size}` }
    }
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(file, { highWaterMark: readChunkBytes })) {
      hash.update(chunk as Buffer)
    }
    if (hash.digest('hex') !== meta.sha256)
      return { reason: 'state.bin does not match its SHA-256' }
  } catch (error) {
    return { reason: `state.bin is missing or unreadable (${(error as Error).message})` }
  }
  const stored: StoredSnapshot = {
    id: name,
    index: meta.index,
    term: meta.term,
    configuration: meta.configuration,
    size: meta.size,
  }
  return { stored, folder, sha256: meta.sha256 }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function describeInvalid(folder: string, reason: string): InvalidSnapshot {
  const match = folderPattern.exec(basename(folder))
  if (match === null) return { folder, reason }
  return { folder, reason, index: Number(match[2]), term: Number(match[1]) }
}

function newestFirst(a: Published, b: Published): number {
  return (
    b.stored.index - a.stored.index ||
    b.stored.term - a.stored.term ||
    (a.stored.id < b.stored.id ? 1 : -1)
  )
}

function copyStored(stored: StoredSnapshot): StoredSnapshot {
  return {
    id: stored.id,
    index: stored.index,
    term: stored.term,
    configuration: copyConfiguration(stored.configuration),
    size: stored.size,
  }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}
