import type { AbortOptions } from '../abort.ts'
import { AbortedError, InvalidOptionError, SnapshotNotFoundError } from '../errors.ts'
import type { Configuration, SnapshotMetadata } from '../types.ts'
import { FailStopStore } from './fail-stop.ts'
import type {
  OpenedSnapshot,
  SnapshotSink,
  SnapshotStore,
  StoredSnapshot,
} from './snapshot-store.ts'

export interface MemorySnapshotStoreInit {
  /** How many snapshots to keep, newest first (default 2, at least 1). */
  retain?: number
}

interface Held {
  readonly metadata: StoredSnapshot
  readonly chunks: readonly Uint8Array[]
  // Breaks (index, term) ties: the later snapshot counts as newer.
  readonly sequence: number
}

/**
 * A `SnapshotStore` held in memory: for tests and simulations. Chunks are copied in and out.
 * Keeps the `retain` newest snapshots by (index, term); a snapshot older than all of them is
 * dropped as soon as it is closed.
 *
 * `failNext()` / `fail()` inject a write failure; the store then refuses every later `create`,
 * `write` and `close` with a `StorageFailedError` (fail-stop). `list` and `open` keep working.
 */
export class MemorySnapshotStore extends FailStopStore implements SnapshotStore {
  readonly #retain: number
  #held: Held[] = []
  #sequence = 0

  constructor(init: MemorySnapshotStoreInit = {}) {
    super('snapshot store')
    const retain = init.retain ?? 2
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new InvalidOptionError(`retain must be an integer of at least 1, got ${String(retain)}`)
    }
    this.#retain = retain
  }

  async create(metadata: SnapshotMetadata, options?: AbortOptions): Promise<SnapshotSink> {
    checkSignal(options)
    this.beforeWrite()
    const sequence = ++this.#sequence
    const id = `${metadata.term}-${metadata.index}-${sequence}`
    // Copied now: the caller may reuse its configuration arrays before closing the sink.
    const copied = copyMetadata(metadata)
    const chunks: Uint8Array[] = []
    let size = 0
    let state: 'open' | 'closed' | 'aborted' = 'open'
    const checkOpen = (operation: string) => {
      if (state !== 'open') {
        throw new Error(`snapshot ${id}: ${operation} after the sink was ${state}`)
      }
    }
    return {
      id,
      write: async (chunk, writeOptions) => {
        checkSignal(writeOptions)
        checkOpen('write')
        this.beforeWrite()
        chunks.push(chunk.slice())
        size += chunk.byteLength
      },
      close: async (closeOptions) => {
        checkSignal(closeOptions)
        checkOpen('close')
        this.beforeWrite()
        state = 'closed'
        const stored: StoredSnapshot = { ...copied, id, size }
        this.#held.push({ metadata: stored, chunks, sequence })
        this.#held.sort(newestFirst)
        this.#held.length = Math.min(this.#held.length, this.#retain)
        return copyStored(stored)
      },
      abort: async () => {
        if (state === 'open') state = 'aborted'
        chunks.length = 0
      },
    }
  }

  async list(options?: AbortOptions): Promise<StoredSnapshot[]> {
    checkSignal(options)
    return this.#held.map((held) => copyStored(held.metadata))
  }

  async open(id: string, options?: AbortOptions): Promise<OpenedSnapshot> {
    checkSignal(options)
    const held = this.#held.find((candidate) => candidate.metadata.id === id)
    if (held === undefined) {
      throw new SnapshotNotFoundError(
        `snapshot ${id} is not in the store (unknown, or no longer retained); call list() for the current ones`,
      )
    }
    const chunks = held.chunks
    return {
      metadata: copyStored(held.metadata),
      data: (async function* () {
        for (const chunk of chunks) yield chunk.slice()
      })(),
    }
  }
}

export function memorySnapshotStore(init?: MemorySnapshotStoreInit): MemorySnapshotStore {
  return new MemorySnapshotStore(init)
}

function newestFirst(a: Held, b: Held): number {
  return (
    b.metadata.index - a.metadata.index ||
    b.metadata.term - a.metadata.term ||
    b.sequence - a.sequence
  )
}

function copyConfiguration(configuration: Configuration): Configuration {
  return {
    voters: [...configuration.voters],
    nonVoters: [...configuration.nonVoters],
    staging: [...configuration.staging],
  }
}

function copyMetadata(metadata: SnapshotMetadata): SnapshotMetadata {
  return {
    index: metadata.index,
    term: metadata.term,
    configuration: copyConfiguration(metadata.configuration),
  }
}

function copyStored(stored: StoredSnapshot): StoredSnapshot {
  return { ...copyMetadata(stored), id: stored.id, size: stored.size }
}

function checkSignal(options: AbortOptions | undefined): void {
  if (options?.signal?.aborted === true) {
    throw new AbortedError('the operation was aborted by its signal before it started')
  }
}
