import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { StorageCorruptError } from '@pinraft/raft-core'
import { restoreAdvice } from './advice.ts'
import type { LevelInstance } from './database.ts'
import type { DurableSummary } from './durable-record.ts'
import { decodeEntry } from './entry-codec.ts'
import { StorageLockedError, StorageOpenError, StorageVersionError } from './errors.ts'
import { decodeHardState } from './hard-state-codec.ts'
import {
  formatKey,
  hardStateKey,
  indexOfLogKey,
  logKeysEnd,
  logKeysStart,
  sequenceKey,
} from './keys.ts'

/**
 * The on-disk format this release writes and reads. Format 2 added the sequence number and the
 * durable record; format 1 (an earlier development release) has neither and is refused.
 */
export const formatVersion = 2

/** What a LevelDB database holds, checked. */
export type LevelContents =
  | { readonly kind: 'empty' }
  | { readonly kind: 'store'; readonly summary: DurableSummary }

/**
 * Reads and checks everything the store keeps in LevelDB: LevelDB's own recovery report, the
 * format version, the sequence number, the hard state and the log's bounds (no holes); with
 * `verifyEntries`, every entry's checksum too. Damage is a `StorageCorruptError`, an unreadable
 * table (LevelDB's `IO error`/`Corruption`) included.
 */
export async function inspectLevel(
  level: LevelInstance,
  location: string,
  where: string,
  options: { readonly verifyEntries: boolean },
): Promise<LevelContents> {
  await checkRecoveryReport(where, location)
  try {
    return await readContents(level, location, options.verifyEntries)
  } catch (error) {
    if (error instanceof StorageCorruptError || error instanceof StorageVersionError) throw error
    if (notDamage.test(describeError(error))) throw openError(location, error, where)
    throw new StorageCorruptError(
      `LevelDB could not read the Raft store in ${location} (${describeError(error).replaceAll(where, location)}): one of its files is damaged, cut short or unreadable; ${restoreAdvice}`,
      { cause: error },
    )
  }
}

async function readContents(
  level: LevelInstance,
  location: string,
  verifyEntries: boolean,
): Promise<LevelContents> {
  const corrupt = (what: string) =>
    new StorageCorruptError(`the Raft store in ${location} ${what}; ${restoreAdvice}`)
  const formatValue = await level.get(formatKey)
  if (formatValue === undefined) {
    for await (const _ of level.keys({ limit: 1 })) {
      throw new StorageCorruptError(
        `${location} holds LevelDB data but no raft-level format version: it is not a raft-level store, or it is damaged. Point the store at an empty folder or at a raft-level store`,
      )
    }
    return { kind: 'empty' }
  }
  const format = decodeFormat(formatValue)
  if (format === undefined) throw corrupt('has a damaged format version record')
  if (format > formatVersion) {
    throw new StorageVersionError(
      `the Raft store in ${location} has format ${format}, written by a newer release; this release reads format ${formatVersion}. Run the newer release (downgrades are not supported)`,
    )
  }
  if (format < formatVersion) {
    throw new StorageVersionError(
      `the Raft store in ${location} has format ${format}, written by an earlier development release that could not detect a rolled-back log; this release reads format ${formatVersion} only. Move the folder away (\`pinraft state cleanup\`) and rejoin the cluster (\`pinraft daemon --bootstrap <peer multiaddress>\`)`,
    )
  }
  const sequenceValue = await level.get(sequenceKey)
  const sequence = sequenceValue === undefined ? undefined : decodeSequence(sequenceValue)
  if (sequence === undefined) throw corrupt('has a missing or damaged sequence number')
  const hardStateValue = await level.get(hardStateKey)
  const hardState = hardStateValue === undefined ? undefined : decodeHardState(hardStateValue)
  if (hardStateValue !== undefined && hardState === undefined) {
    throw corrupt(
      'has a damaged term and vote record (the peer could vote twice in a term if it went on)',
    )
  }
  let first = 0
  let last = 0
  let count = 0
  const iterator = verifyEntries
    ? level.iterator({ gte: logKeysStart, lt: logKeysEnd })
    : level.keys({ gte: logKeysStart, lt: logKeysEnd })
  for await (const item of iterator) {
    const key = (verifyEntries ? (item as [Uint8Array, Uint8Array])[0] : item) as Uint8Array
    const index = indexOfLogKey(key)
    if (index === undefined) throw corrupt('holds a key in its log that is not a log index')
    if (verifyEntries) decodeEntry(index, key, (item as [Uint8Array, Uint8Array])[1], location)
    if (count === 0) first = index
    last = index
    count++
  }
  if (count !== 0 && count !== last - first + 1) {
    throw corrupt(
      `has holes in its log: it runs from ${first} to ${last} but holds ${count} entries instead of ${last - first + 1}`,
    )
  }
  return { kind: 'store', summary: { sequence, hardState, first, last } }
}

/**
 * LevelDB (without paranoid checks, which classic-level does not expose) skips write-ahead log
 * records with a bad checksum while recovering and only says so in its info log, which it
 * starts afresh on every open.
 */
async function checkRecoveryReport(where: string, location: string): Promise<void> {
  const info = await readFile(join(where, 'LOG'), 'utf8').catch(() => '')
  const damage = info.split('\n').filter((line) => /corrupt|dropping/i.test(line))
  if (damage.length === 0) return
  throw new StorageCorruptError(
    `LevelDB found damaged records in the Raft store in ${location} while recovering (${damage.map((line) => withoutLogPrefix(line).replaceAll(where, location)).join('; ')}); acknowledged entries may be lost, so the store will not open; ${restoreAdvice}`,
  )
}

/** A LevelDB info log line without its time stamp and thread id. */
function withoutLogPrefix(line: string): string {
  return line.replace(/^\S+ \S+ /, '').trim()
}

export function encodeFormat(version: number): Uint8Array {
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

/** The sequence number: `[8 bytes big-endian][crc32 4]`. */
export function encodeSequence(sequence: number): Uint8Array {
  const value = new Uint8Array(12)
  const view = new DataView(value.buffer)
  view.setUint32(0, Math.floor(sequence / 2 ** 32))
  view.setUint32(4, sequence >>> 0)
  view.setUint32(8, crc32(value.subarray(0, 8)))
  return value
}

function decodeSequence(value: Uint8Array): number | undefined {
  if (value.byteLength !== 12) return undefined
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  if (view.getUint32(8) !== crc32(value.subarray(0, 8))) return undefined
  const sequence = view.getUint32(0) * 2 ** 32 + view.getUint32(4)
  return Number.isSafeInteger(sequence) ? sequence : undefined
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}

// LevelDB errors that say the machine, not the store, is the problem.
const notDamage =
  /no space left|quota exceeded|read-only file system|permission denied|too many open files/i

/** The error for LevelDB failing to open `where` (the folder, or the copy of it for `location`). */
export function openError(location: string, error: unknown, where = location): Error {
  const code = (error as { cause?: { code?: unknown } }).cause?.code
  const text = describeError(error).replaceAll(where, location)
  if (code === 'LEVEL_LOCKED') {
    return new StorageLockedError(
      `the Raft store in ${location} is locked by another process: ${text}. Stop the other peer using this folder, or give this one its own folder`,
      { cause: error },
    )
  }
  // LevelDB writes while it opens (recovery): a full disk or a permission problem is not damage.
  if (notDamage.test(text)) {
    return new StorageOpenError(
      `could not open the Raft store in ${location} (${text}); free disk space or fix the folder's permissions, then start again: the store was not changed`,
      { cause: error },
    )
  }
  if (code === 'LEVEL_CORRUPTION' || /\.(ldb|sst|log)\b|MANIFEST|CURRENT/.test(text)) {
    return new StorageCorruptError(
      `LevelDB reports the Raft store in ${location} as damaged or unreadable (${text}); ${restoreAdvice}`,
      { cause: error },
    )
  }
  return new StorageOpenError(
    `could not open the Raft store in ${location} (${text}); check that the folder exists, is writable and the disk is not full`,
    { cause: error },
  )
}
