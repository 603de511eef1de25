import { spawn } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HardState, Logger } from '@pinraft/raft-core'
import { StorageCorruptError, StorageFailedError } from '@pinraft/raft-core'
import type { BatchOperation } from 'level'
import { Level } from 'level'
import { restoreAdvice } from './advice.ts'
import {
  DurableRecord,
  type DurableSummary,
  describeSummary,
  durableRecordName,
  type RecordReading,
  readDurableRecord,
  sameState,
  syncFolder,
} from './durable-record.ts'
import {
  StorageClosedError,
  StorageLockedError,
  StorageOpenError,
  StorageVersionError,
} from './errors.ts'
import { formatKey, sequenceKey } from './keys.ts'
import { makeProbeCopy } from './probe-copy.ts'
import {
  describeError,
  encodeFormat,
  encodeSequence,
  formatVersion,
  inspectLevel,
  type LevelContents,
  openError,
} from './store-inspection.ts'

export type LevelInstance = Level<Uint8Array, Uint8Array>

export type WriteOperation =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array }

/** What a write changes in the durable summary: the hard state, the log's bounds, or both. */
export interface SummaryChange {
  readonly hardState?: HardState
  readonly bounds?: { readonly first: number; readonly last: number }
}

export interface RaftDatabaseOptions {
  /** LevelDB's write buffer in bytes (LevelDB's default, 4 MiB, if undefined). */
  readonly writeBufferSize?: number | undefined
  /** Check the copy in a child process (default) or in this one (see `RaftStorageInit`). */
  readonly checkInChildProcess?: boolean | undefined
}

interface PendingWrite {
  readonly operations: readonly WriteOperation[]
  readonly change: SummaryChange
  readonly bytes: number
  resolve(): void
  reject(error: Error): void
}

// One synced batch holds at most this much, so that a burst of writers cannot build a batch
// that takes seconds to write; the next batch follows at once.
const maxGroupBytes = 8 * 1024 * 1024

const initialSummary: DurableSummary = { sequence: 0, hardState: undefined, first: 0, last: 0 }

// LevelDB's lock does not stop a second open in the same process before the probe copy is made
// (and closing the copy's LOCK would drop this process's lock on the original): so this does.
const openLocations = new Set<string>()

/**
 * The LevelDB database shared by the log and stable stores, and its single writer.
 *
 * Group commit: writes queue while a synced batch is in flight; the next batch takes all of them,
 * in call order, and each caller resolves only once the batch holding its operations is synced
 * and the durable record (see durable-record.ts) says so.
 *
 * Fail-stop: once a batch fails, every queued and later write is rejected with a
 * `StorageFailedError`. LevelDB may report success for a synced write issued after a failed one
 * and lose it on reopen, so this handle never issues another write.
 */
export class RaftDatabase {
  readonly location: string
  readonly level: LevelInstance
  /** The durable record file beside the LevelDB folder. */
  readonly recordPath: string
  readonly #record: DurableRecord
  // What is synced in LevelDB and in the record.
  #summary: DurableSummary
  #queue: PendingWrite[] = []
  #flushing: Promise<void> | undefined
  #failure: StorageFailedError | undefined
  #closed = false

  private constructor(
    location: string,
    level: LevelInstance,
    record: DurableRecord,
    summary: DurableSummary,
  ) {
    this.location = location
    this.level = level
    this.recordPath = record.path
    this.#record = record
    this.#summary = summary
  }

  /**
   * Opens (creating if needed) the database in `location`, with its durable record beside it.
   *
   * Everything is checked on a hard-linked copy of the folder first (LevelDB rewrites what it
   * recovers, so a damaged store must not reach it): LevelDB's recovery report, the format, every
   * entry's checksum, and the sequence number and contents against the durable record. Only then
   * is the folder itself opened. A problem is an error naming the folder, and leaves every byte
   * of it as it was.
   */
  static async open(
    location: string,
    logger: Logger,
    options: RaftDatabaseOptions = {},
  ): Promise<RaftDatabase> {
    const key = resolve(location)
    if (openLocations.has(key)) {
      throw new StorageLockedError(
        `the Raft store in ${location} is already open in this process; close it first, or give this store its own folder`,
      )
    }
    openLocations.add(key)
    try {
      return await RaftDatabase.#openChecked(location, logger, options)
    } catch (error) {
      openLocations.delete(key)
      throw error
    }
  }

  /** The log's bounds when the database was opened. */
  get openedBounds(): { readonly first: number; readonly last: number } {
    return { first: this.#summary.first, last: this.#summary.last }
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

  /**
   * Writes `operations` atomically and durably (group commit, see the class comment); `change`
   * says what they do to the hard state and the log's bounds, for the durable record.
   */
  write(operations: readonly WriteOperation[], change: SummaryChange): Promise<void> {
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
      this.#queue.push({ operations, change, bytes, resolve, reject })
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
      let summary: DurableSummary = { ...this.#summary, sequence: this.#summary.sequence + 1 }
      for (const { change } of group) {
        if (change.hardState !== undefined) summary = { ...summary, hardState: change.hardState }
        if (change.bounds !== undefined) summary = { ...summary, ...change.bounds }
      }
      const operations = [
        ...group.flatMap((pending) => pending.operations),
        { type: 'put', key: sequenceKey, value: encodeSequence(summary.sequence) },
      ] as BatchOperation<LevelInstance, Uint8Array, Uint8Array>[]
      let doing = 'a synced write to LevelDB'
      try {
        await this.level.batch(operations, { sync: true })
        // After LevelDB's sync and before anyone is acknowledged: a record never runs ahead of
        // what LevelDB synced, and LevelDB is at most this one batch ahead of the record.
        doing = `syncing the durable record ${this.recordPath}`
        await this.#record.write(summary)
      } catch (error) {
        this.#failure = new StorageFailedError(
          `${doing} of the Raft store in ${this.location} failed (${describeError(error)}). The store refuses every further write, and writes not yet acknowledged are lost; fix the cause (a full or failing disk?) and restart the process so that it reopens the store`,
          { cause: error },
        )
        for (const pending of [...group, ...this.#queue.splice(0)]) pending.reject(this.#failure)
        break
      }
      this.#summary = summary
      for (const pending of group) pending.resolve()
    }
    this.#flushing = undefined
  }

  /** Waits for writes in flight, then closes LevelDB and the record. Later writes reject. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#flushing
      await this.level.close()
      await this.#record.close()
    } finally {
      openLocations.delete(resolve(this.location))
    }
  }

  /** `open` once the folder is known not to be open in this process. */
  static async #openChecked(
    location: string,
    logger: Logger,
    options: RaftDatabaseOptions,
  ): Promise<RaftDatabase> {
    const recordPath = join(dirname(location), durableRecordName)
    const record = await readDurableRecord(recordPath)
    const files: string[] = await readdir(location).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return []
      throw new StorageOpenError(
        `could not read the Raft store folder ${location} (${error.message}); check its permissions`,
        { cause: error },
      )
    })
    let probed: LevelContents = { kind: 'empty' }
    if (files.length > 0) {
      if (!files.includes('CURRENT')) {
        throw new StorageCorruptError(
          `${location} holds files but no LevelDB CURRENT file: it is damaged or not a LevelDB folder; ${restoreAdvice}`,
        )
      }
      probed = await probe(location, options)
    }
    const decision = reconcile(location, recordPath, record, probed)

    const level = new Level<Uint8Array, Uint8Array>(location, levelOptions(options))
    try {
      await level.open()
    } catch (error) {
      throw openError(location, error)
    }
    let handle: DurableRecord | undefined
    try {
      const contents = await inspectLevel(level, location, location, { verifyEntries: false })
      if (!sameContents(contents, probed)) {
        throw new StorageCorruptError(
          `the Raft store in ${location} changed while it was being opened (another process?); ${restoreAdvice}`,
        )
      }
      if (contents.kind === 'empty') {
        handle =
          record.kind === 'missing'
            ? await DurableRecord.create(recordPath, initialSummary)
            : await DurableRecord.open(recordPath)
        await level.batch(
          [
            { type: 'put', key: formatKey, value: encodeFormat(formatVersion) },
            { type: 'put', key: sequenceKey, value: encodeSequence(0) },
          ],
          { sync: true },
        )
        // LevelDB syncs neither its new folder nor its files' entries in it: without this, a
        // power cut could take the new store's folder while its record survives.
        await syncFolder(location)
        await syncFolder(dirname(location))
        logger.info('created a new Raft store', { location, formatVersion })
        return new RaftDatabase(location, level, handle, initialSummary)
      }
      handle = await DurableRecord.open(recordPath)
      if (decision === 'ahead') {
        // The last batch was synced but the process stopped before its record was: it was never
        // acknowledged, and it is kept. The record catches up before any new batch.
        await handle.write(contents.summary)
        logger.info('the last write was synced but not acknowledged before the peer stopped', {
          location,
          sequence: contents.summary.sequence,
        })
      }
      return new RaftDatabase(location, level, handle, contents.summary)
    } catch (error) {
      await handle?.close().catch(() => {})
      await level.close().catch(() => {})
      throw error
    }
  }
}

/**
 * Opens a hard-linked copy of `location` and checks it completely, in a child process; the copy
 * is removed again. LevelDB may rewrite the copy as it likes: the original is untouched (see
 * probe-copy.ts). The child stands between LevelDB and the peer because LevelDB aborts the
 * whole process on some damaged tables (an assertion in its key decoding).
 */
async function probe(location: string, options: RaftDatabaseOptions): Promise<LevelContents> {
  const copy = `${location}.probe`
  try {
    try {
      await makeProbeCopy(location, copy)
    } catch (error) {
      throw new StorageOpenError(
        `could not make the copy ${copy} to check the Raft store on (${describeError(error)}); check that ${dirname(location)} is writable and the disk is not full`,
        { cause: error },
      )
    }
    if (options.checkInChildProcess === false) {
      const level = new Level<Uint8Array, Uint8Array>(copy, levelOptions(options))
      try {
        await level.open()
      } catch (error) {
        throw openError(location, error, copy)
      }
      try {
        return await inspectLevel(level, location, copy, { verifyEntries: true })
      } finally {
        await level.close().catch(() => {})
      }
    }
    const { code, signal, stdout, stderr } = await runProbeChild([
      copy,
      location,
      options.writeBufferSize === undefined ? '' : String(options.writeBufferSize),
    ])
    const line = stdout.split('\n').find((text) => text.startsWith('{'))
    const reply =
      line === undefined
        ? undefined
        : (JSON.parse(line) as {
            contents?: LevelContents
            error?: { name: string; message: string }
          })
    if (reply?.contents !== undefined) return reply.contents
    if (reply?.error !== undefined) throw rebuildError(reply.error)
    const detail = stderr.trim().split('\n').slice(-3).join(' ').replaceAll(copy, location)
    throw new StorageCorruptError(
      `LevelDB crashed (${signal ?? `exit code ${code}`}: ${detail || 'no message'}) while reading a copy of the Raft store in ${location}: one of its files is damaged; ${restoreAdvice}`,
    )
  } finally {
    await rm(copy, { recursive: true, force: true }).catch(() => {})
  }
}

const probeChild = fileURLToPath(
  new URL(
    import.meta.url.endsWith('.ts') ? './probe-child.ts' : './probe-child.js',
    import.meta.url,
  ),
)

function runProbeChild(
  args: readonly string[],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  // From sources (tests, benchmarks), the child resolves workspace packages the same way.
  const conditions = import.meta.url.endsWith('.ts') ? ['--conditions=@pinraft/source'] : []
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...conditions, '--no-warnings', probeChild, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    child.on('error', (error) =>
      reject(
        new StorageOpenError(
          `could not start the process that checks the Raft store (${error.message})`,
          { cause: error },
        ),
      ),
    )
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** The child's error as the class it had (names are stable, see errors.ts). */
function rebuildError({ name, message }: { name: string; message: string }): Error {
  switch (name) {
    case 'StorageCorruptError':
      return new StorageCorruptError(message)
    case 'StorageVersionError':
      return new StorageVersionError(message)
    case 'StorageLockedError':
      return new StorageLockedError(message)
    default:
      return new StorageOpenError(message)
  }
}

/**
 * Compares what LevelDB returns with the durable record. LevelDB may be one batch ahead (synced,
 * then the process stopped before the record was); anything else that differs means LevelDB
 * lost acknowledged writes, or the record is not this store's.
 */
function reconcile(
  location: string,
  recordPath: string,
  record: RecordReading,
  contents: LevelContents,
): 'initialize' | 'current' | 'ahead' {
  const corrupt = (what: string) =>
    new StorageCorruptError(`the Raft store in ${location} ${what}; ${restoreAdvice}`)
  if (record.kind === 'damaged') {
    throw corrupt(
      `cannot be checked: its durable record ${recordPath} is damaged (${record.reason})`,
    )
  }
  if (contents.kind === 'empty') {
    if (
      record.kind === 'valid' &&
      !(record.summary.sequence === 0 && sameState(record.summary, initialSummary))
    ) {
      throw corrupt(
        `is empty or missing, but its durable record ${recordPath} says it held ${describeSummary(record.summary)}`,
      )
    }
    return 'initialize'
  }
  if (record.kind === 'missing') {
    throw corrupt(
      `has no durable record ${recordPath}, so nothing shows that LevelDB returned every acknowledged write (LevelDB has ${describeSummary(contents.summary)})`,
    )
  }
  const found = contents.summary
  const expected = record.summary
  if (found.sequence === expected.sequence) {
    if (sameState(found, expected)) return 'current'
    throw corrupt(
      `does not hold what its durable record ${recordPath} says: LevelDB returns ${describeSummary(found)}, the record says ${describeSummary(expected)}`,
    )
  }
  if (found.sequence === expected.sequence + 1) return 'ahead'
  if (found.sequence < expected.sequence) {
    throw corrupt(
      `lost acknowledged writes (a cut or lost LevelDB write-ahead log, or a damaged table): LevelDB returns ${describeSummary(found)}, but ${describeSummary(expected)} was acknowledged, as its durable record ${recordPath} shows. The peer could vote twice in a term or forget entries it acknowledged`,
    )
  }
  throw corrupt(
    `has a durable record ${recordPath} older than its LevelDB data (LevelDB returns ${describeSummary(found)}, the record says ${describeSummary(expected)}): the record was damaged, or restored or copied apart from the folder`,
  )
}

function levelOptions(options: RaftDatabaseOptions) {
  return {
    keyEncoding: 'view',
    valueEncoding: 'view',
    ...(options.writeBufferSize === undefined ? {} : { writeBufferSize: options.writeBufferSize }),
  } as const
}

function sameContents(a: LevelContents, b: LevelContents): boolean {
  if (a.kind === 'empty' || b.kind === 'empty') return a.kind === b.kind
  return a.summary.sequence === b.summary.sequence && sameState(a.summary, b.summary)
}
