import { constants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { crc32 } from 'node:zlib'
import type { HardState } from '@pinraft/raft-core'

/**
 * What the store held after one synced LevelDB batch: the batch's sequence number (also stored
 * in LevelDB, in the same batch), the hard state and the log's bounds.
 */
export interface DurableSummary {
  readonly sequence: number
  /** undefined until the first `save`. */
  readonly hardState: HardState | undefined
  readonly first: number
  readonly last: number
}

/**
 * The durable record: a small file beside the LevelDB folder, synced after every LevelDB batch
 * and before the batch's callers are acknowledged, so that a LevelDB that comes back older than
 * what was acknowledged (a cut write-ahead log: LevelDB takes a cut tail for a clean end) is
 * caught on open.
 *
 * Two slots of `slotBytes` each; the record for sequence `s` goes to slot `s % 2`, written in
 * place and synced with fdatasync (one sync, no file creation or rename per batch). Each slot
 * has its own checksum, so a write torn by a crash leaves the other slot, one batch older,
 * readable; the newest valid slot is the record.
 */
export const durableRecordName = 'durable-record'
export const slotBytes = 4096
const magic = 0x50524452 // "PRDR"
const headerBytes = 12
const recordFormat = 1

/** What a file holds: the newest valid slot, or why there is none. */
export type RecordReading =
  | { readonly kind: 'missing' }
  | { readonly kind: 'damaged'; readonly reason: string }
  | { readonly kind: 'valid'; readonly summary: DurableSummary }

export async function readDurableRecord(path: string): Promise<RecordReading> {
  let bytes: Uint8Array
  try {
    const handle = await open(path, 'r')
    try {
      const buffer = new Uint8Array(2 * slotBytes)
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0)
      bytes = buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' }
    return { kind: 'damaged', reason: `it cannot be read (${(error as Error).message})` }
  }
  if (bytes.byteLength !== 2 * slotBytes) {
    return {
      kind: 'damaged',
      reason: `it holds ${bytes.byteLength} bytes instead of ${2 * slotBytes}`,
    }
  }
  const slots = [0, 1]
    .map((slot) => decodeSlot(bytes.subarray(slot * slotBytes, (slot + 1) * slotBytes)))
    .filter((summary) => summary !== undefined)
  if (slots.length === 0) return { kind: 'damaged', reason: 'neither of its two slots is valid' }
  slots.sort((a, b) => b.sequence - a.sequence)
  return { kind: 'valid', summary: slots[0]! }
}

/** The open record file of a store, written once per LevelDB batch. */
export class DurableRecord {
  readonly path: string
  readonly #handle: FileHandle
  /** Opened with O_DSYNC: a write returns once it is on the disk, as after an fdatasync. */
  readonly #synchronous: boolean

  private constructor(path: string, handle: FileHandle, synchronous: boolean) {
    this.path = path
    this.#handle = handle
    this.#synchronous = synchronous
  }

  /**
   * Opens an existing record for writing. Where the platform has O_DSYNC, every write is synced
   * as it is made: one call to the thread pool per batch instead of a write and then an
   * fdatasync, each of which waited for a turn of the event loop in between.
   */
  static async open(path: string): Promise<DurableRecord> {
    const synchronous = constants.O_DSYNC !== undefined && constants.O_DSYNC !== 0
    const flags = synchronous ? constants.O_RDWR | constants.O_DSYNC : 'r+'
    return new DurableRecord(path, await open(path, flags), synchronous)
  }

  /**
   * Creates the record holding `summary` atomically: written to a temporary file, synced,
   * renamed into place, and the folder synced.
   */
  static async create(path: string, summary: DurableSummary): Promise<DurableRecord> {
    const temporary = `${path}.tmp`
    await rm(temporary, { force: true })
    const handle = await open(temporary, 'wx')
    try {
      const bytes = new Uint8Array(2 * slotBytes)
      bytes.set(encodeSlot(summary), (summary.sequence % 2) * slotBytes)
      await handle.write(bytes, 0, bytes.byteLength, 0)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
    await syncFolder(dirname(path))
    return DurableRecord.open(path)
  }

  /** Writes `summary` into its slot and syncs it; the other slot keeps the previous record. */
  async write(summary: DurableSummary): Promise<void> {
    const slot = encodeSlot(summary)
    let offset = 0
    while (offset < slot.byteLength) {
      const { bytesWritten } = await this.#handle.write(
        slot,
        offset,
        slot.byteLength - offset,
        (summary.sequence % 2) * slotBytes + offset,
      )
      offset += bytesWritten
    }
    if (!this.#synchronous) await this.#handle.datasync()
  }

  async close(): Promise<void> {
    await this.#handle.close()
  }
}

/** The largest hard-state vote the record can hold (a peer id is about 52 characters). */
export const maxVoteBytes = 1024

function encodeSlot(summary: DurableSummary): Uint8Array {
  const { sequence, hardState, first, last } = summary
  const json = new TextEncoder().encode(
    JSON.stringify({ format: recordFormat, sequence, hardState: hardState ?? null, first, last }),
  )
  if (json.byteLength > slotBytes - headerBytes) {
    throw new RangeError(`a durable record of ${json.byteLength} bytes does not fit its slot`)
  }
  const slot = new Uint8Array(slotBytes)
  const view = new DataView(slot.buffer)
  view.setUint32(0, magic)
  view.setUint32(4, json.byteLength)
  slot.set(json, headerBytes)
  view.setUint32(8, crc32(slot.subarray(0, 8), crc32(json)))
  return slot
}

function decodeSlot(slot: Uint8Array): DurableSummary | undefined {
  const view = new DataView(slot.buffer, slot.byteOffset, slot.byteLength)
  if (view.getUint32(0) !== magic) return undefined
  const length = view.getUint32(4)
  if (length > slotBytes - headerBytes) return undefined
  const json = slot.subarray(headerBytes, headerBytes + length)
  if (view.getUint32(8) !== crc32(slot.subarray(0, 8), crc32(json))) return undefined
  try {
    const parsed = JSON.parse(new TextDecoder().decode(json)) as Partial<Record<string, unknown>>
    const { format, sequence, hardState, first, last } = parsed
    if (format !== recordFormat || !isCount(sequence) || !isCount(first) || !isCount(last)) {
      return undefined
    }
    if (hardState === null) return { sequence, hardState: undefined, first, last }
    const state = hardState as Partial<Record<string, unknown>>
    if (!isCount(state.term) || !isCount(state.commit)) return undefined
    if (state.vote !== null && typeof state.vote !== 'string') return undefined
    return {
      sequence,
      hardState: { term: state.term, vote: state.vote, commit: state.commit },
      first,
      last,
    }
  } catch {
    return undefined
  }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Describes a summary for an error message. */
export function describeSummary(summary: DurableSummary): string {
  const state = summary.hardState
  const hard =
    state === undefined
      ? 'no term saved'
      : `term ${state.term}, vote ${state.vote ?? 'none'}, commit ${state.commit}`
  const log = summary.last === 0 ? 'an empty log' : `log ${summary.first} to ${summary.last}`
  return `write ${summary.sequence}: ${hard}, ${log}`
}

export function sameState(a: DurableSummary, b: DurableSummary): boolean {
  const x = a.hardState
  const y = b.hardState
  const sameHard =
    x === undefined || y === undefined
      ? x === y
      : x.term === y.term && x.vote === y.vote && x.commit === y.commit
  return sameHard && a.first === b.first && a.last === b.last
}
