import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@pinraft/raft-core'
import { StorageCorruptError, StorageFailedError } from '@pinraft/raft-core'
import type { BatchOperation } from 'level'
import { Level } from 'level'
import { restoreAdvice } from './advice.ts'
import {
  StorageClosedError,
  StorageLockedError,
  StorageOpenError,
  StorageVersionError,
} from './errors.ts'
import { formatKey } from './keys.ts'

/** The on-disk format this release writes and reads. Raise it with a migration in `open`. */
export const formatVersion = 1

/**
 * Written beside the LevelDB files when LevelDB reports that it dropped damaged records while
 * recovering. LevelDB rewrites its files during recovery, so without this marker the next open
 * would succeed and the loss would go unnoticed.
 */
export const corruptionMarkerName = 'CORRUPTED.txt'

export type LevelInstance = Level<Uint8Array, Uint8Array>

export type WriteOperation =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array }

interface PendingWrite {
  readonly operations: readonly WriteOperation[]
  readonly bytes: number
  resolve(): void
  reject(error: Error): void
}

// One synced batch holds at most this much, so that a burst of writers cannot build a batch
// that takes seconds to write; the next batch follows at once.
const maxGroupBytes = 8 * 1024 * 1024

/**
 * The LevelDB database shared by the log and stable stores, and its single writer.
 *
 * Group commit: writes queue while a synced batch is in flight; the next batch takes all of them,
 * in call order, and each caller resolves only once the batch holding its operations is synced.
 *
 * Fail-stop: once a batch fails, every queued and later write is rejected with a
 * `StorageFailedError`. LevelDB may report success for a synced write issued after a failed one
 * and lose it on reopen, so this handle never issues another write.
 */
export class RaftDatabase {
  readonly location: string
  readonly level: LevelInstance
  #queue: PendingWrite[] = []
  #flushing: Promise<void> | undefined
  #failure: StorageFailedError | undefined
  #closed = false

  private constructor(location: string, level: LevelInstance) {
    this.location = location
    this.level = level
  }

  /**
   * Opens (creating if needed) the database in `location`, checking its lock, its format
   * version and LevelDB's own recovery report. Every problem is an error that names the folder.
   */
  static async open(location: string, logger: Logger): Promise<RaftDatabase> {
    const marker = join(location, corruptionMarkerName)
    const markerText = await readFile(marker, 'utf8').catch(() => undefined)
    if (markerText !== undefined) {
      throw new StorageCorruptError(
        `the Raft store in ${location} was found damaged earlier and may have lost acknowledged entries (details in ${marker}). Do not use it: ${restoreAdvice}. Deleting ${marker} accepts the loss and lets the store open again`,
      )
    }
    const level: LevelInstance = new Level(location, {
      keyEncoding: 'view',
      valueEncoding: 'view',
    })
    try {
      await level.open()
    } catch (error) {
      throw openError(location, error)
    }
    const database = new RaftDatabase(location, level)
    try {
      await database.#checkRecovery(marker)
      await database.#checkFormat(logger)
    } catch (error) {
      await level.close().catch(() => {})
      throw error
    }
    return database
  }

  /** The error that made this handle fail-stop, if any. */
  get failure(): StorageFailedError | undefined {
    return this.#failure
  }

  /** Throws if a write could not be accepted now (closed, or failed earlier). */
  checkWritable(): void {
    if (this.#closed) {
      throw new StorageClosedError(`the Raft store in ${this.location} is closed; open it again`)
    }
    if (this.#failure !== undefined) throw this.#failure
  }

  /** Writes `operations` atomically and durably (group commit, see the class comment). */
  write(operations: readonly WriteOperation[]): Promise<void> {
    try {
      this.checkWritable()
    } catch (error) {
      return Promise.reject(error)
    }
    let bytes = 0
    for (const operation of operations) {
      bytes +=
        operation.key.byteLength + (operation.type === 'put' ? operation.value.byteLength : 0)
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ operations, bytes, resolve, reject })
      this.#flushing ??= this.#flush()
    })
  }

  async #flush(): Promise<void> {
    // Let writes made in the same tick join the first batch.
    await Promise.resolve()
    while (this.#queue.length > 0) {
      let take = 1
      let bytes = this.#queue[0]!.bytes
      while (take < this.#queue.length && bytes + this.#queue[take]!.bytes <= maxGroupBytes) {
        bytes += this.#queue[take]!.bytes
        take++
      }
      const group = this.#queue.splice(0, take)
      try {
        await this.level.batch(
          group.flatMap((pending) => pending.operations) as BatchOperation<
            LevelInstance,
            Uint8Array,
            Uint8Array
          >[],
          { sync: true },
        )
      } catch (error) {
        this.#failure = new StorageFailedError(
          `a synced write to the Raft store in ${this.location} failed (${describe(error)}). The store refuses every further write, and writes not yet acknowledged are lost; fix the cause (a full or failing disk?) and restart the process so that it reopens the store`,
          { cause: error },
        )
        for (const pending of [...group, ...this.#queue.splice(0)]) pending.reject(this.#failure)
        break
      }
      for (const pending of group) pending.resolve()
    }
    this.#flushing = undefined
  }

  /** Waits for writes in flight, then closes LevelDB. Later writes reject. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#flushing
    await this.level.close()
  }

  async #checkRecovery(marker: string): Promise<void> {
    // LevelDB (without paranoid checks, which classic-level does not expose) skips log records
    // with a bad checksum during recovery and only reports it in its info log, which it starts
    // afresh on every open.
    const info = await readFile(join(this.location, 'LOG'), 'utf8').catch(() => '')
    const damage = info.split('\n').filter((line) => /corrupt|dropping/i.test(line))
    if (damage.length === 0) return
    const report = [
      `LevelDB reported damage while opening ${this.location}; the records it skipped may hold acknowledged Raft entries.`,
      ...damage,
      '',
    ].join('\n')
    await writeFile(marker, report, { flag: 'wx' }).catch(async () => {
      await rm(marker, { force: true })
      await writeFile(marker, report)
    })
    throw new StorageCorruptError(
      `LevelDB found damaged records in ${this.location} and skipped them (${damage[0]!.trim()}); acknowledged entries may be lost, so the store will not open. To go on, ${restoreAdvice}; the details are in ${marker}`,
    )
  }

  async #checkFormat(logger: Logger): Promise<void> {
    const stored = await this.level.get(formatKey)
    if (stored === undefined) {
      for await (const _ of this.level.keys({ limit: 1 })) {
        throw new StorageCorruptError(
          `${this.location} holds LevelDB data but no raft-level format version: it is not a raft-level store, or it is damaged. Point the store at an empty folder or at a raft-level store`,
        )
      }
      await this.level.put(formatKey, encodeFormat(formatVersion), { sync: true })
      logger.info('created a new Raft store', { location: this.location, formatVersion })
      return
    }
    const version = decodeFormat(stored)
    if (version === undefined) {
      throw new StorageCorruptError(
        `the format version record in ${this.location} is damaged; ${restoreAdvice}`,
      )
    }
    if (version > formatVersion) {
      throw new StorageVersionError(
        `the Raft store in ${this.location} has format ${version}, written by a newer release; this release reads format ${formatVersion}. Run the newer release (downgrades are not supported)`,
      )
    }
    // Format 1 is the first; a later release migrates older formats here.
  }
}

function encodeFormat(version: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ format: version }))
}

function decodeFormat(value: Uint8Array): number | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const version = (parsed as { format?: unknown }).format
    return Number.isSafeInteger(version) && (version as number) >= 1
      ? (version as number)
      : undefined
  } catch {
    return undefined
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}

function openError(location: string, error: unknown): Error {
  const code = (error as { cause?: { code?: unknown } }).cause?.code
  const text = describe(error)
  if (code === 'LEVEL_LOCKED') {
    return new StorageLockedError(
      `the Raft store in ${location} is locked by another process (or already open in this one): ${text}. Stop the other peer using this folder, or give this one its own folder`,
      { cause: error },
    )
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new StorageCorruptError(
      `LevelDB reports the Raft store in ${location} as damaged (${text}); ${restoreAdvice}`,
      { cause: error },
    )
  }
  return new StorageOpenError(
    `could not open the Raft store in ${location} (${text}); check that the folder exists, is writable and the disk is not full`,
    { cause: error },
  )
}
