import { crc32 } from 'node:zlib'
import type { AbortOptions, HardState, StableStore } from '@pinraft/raft-core'
import { AbortedError, StorageCorruptError } from '@pinraft/raft-core'
import { restoreAdvice } from './advice.ts'
import type { RaftDatabase } from './database.ts'
import { InvalidRecordError } from './errors.ts'
import { hardStateKey } from './keys.ts'

/**
 * Term, vote and commit index in the LevelDB database shared with the log, written through the
 * same group-committing writer (so a `save` and an `append` made together share one sync).
 * Stored as `[crc32 4][JSON]`.
 */
export class LevelStableStore implements StableStore {
  readonly #database: RaftDatabase

  constructor(database: RaftDatabase) {
    this.#database = database
  }

  async load(options?: AbortOptions): Promise<HardState | undefined> {
    checkSignal(options)
    const value = await this.#database.level.get(hardStateKey)
    if (value === undefined) return undefined
    const state = decodeHardState(value)
    if (state === undefined) {
      throw new StorageCorruptError(
        `the saved term and vote in ${this.#database.location} are damaged; the peer could vote twice in a term if it went on; ${restoreAdvice}`,
      )
    }
    return state
  }

  async save(state: HardState, options?: AbortOptions): Promise<void> {
    checkSignal(options)
    this.#database.checkWritable()
    const { term, vote, commit } = state
    if (!Number.isSafeInteger(term) || term < 0 || !Number.isSafeInteger(commit) || commit < 0) {
      throw new InvalidRecordError(
        `hard state term ${String(term)} and commit ${String(commit)} must be non-negative integers`,
      )
    }
    if (vote !== null && typeof vote !== 'string') {
      throw new InvalidRecordError(`hard state vote must be a node id or null, got ${String(vote)}`)
    }
    await this.#database.write([
      { type: 'put', key: hardStateKey, value: encodeHardState({ term, vote, commit }) },
    ])
  }
}

function encodeHardState(state: HardState): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(state))
  const value = new Uint8Array(4 + json.byteLength)
  value.set(json, 4)
  new DataView(value.buffer).setUint32(0, crc32(json))
  return value
}

function decodeHardState(value: Uint8Array): HardState | undefined {
  if (value.byteLength < 4) return undefined
  const json = value.subarray(4)
  if (new DataView(value.buffer, value.byteOffset, 4).getUint32(0) !== crc32(json)) return undefined
  try {
    const parsed = JSON.parse(new TextDecoder().decode(json)) as Partial<Record<string, unknown>>
    const { term, vote, commit } = parsed
    if (!Number.isSafeInteger(term) || !Number.isSafeInteger(commit)) return undefined
    if (vote !== null && typeof vote !== 'string') return undefined
    return { term: term as number, vote, commit: commit as number }
  } catch {
    return undefined
  }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}
