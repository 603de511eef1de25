import type { AbortOptions, HardState, StableStore } from '@pinraft/raft-core'
import { AbortedError, StorageCorruptError } from '@pinraft/raft-core'
import { restoreAdvice } from './advice.ts'
import type { RaftDatabase } from './database.ts'
import { maxVoteBytes } from './durable-record.ts'
import { InvalidRecordError } from './errors.ts'
import { decodeHardState, encodeHardState } from './hard-state-codec.ts'
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
    if (vote !== null && Buffer.byteLength(vote) > maxVoteBytes) {
      throw new InvalidRecordError(
        `hard state vote is ${Buffer.byteLength(vote)} bytes long; node ids of up to ${maxVoteBytes} bytes can be stored`,
      )
    }
    await this.#database.write(
      [{ type: 'put', key: hardStateKey, value: encodeHardState({ term, vote, commit }) }],
      { hardState: { term, vote, commit } },
    )
  }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}
