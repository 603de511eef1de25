import {
  applyConfigurationChange,
  type Configuration,
  decodeConfigurationChange,
  emptyConfiguration,
  makeConfiguration,
} from '@pinraft/raft-core'
import { openRaftStorage, type RaftStorage } from '@pinraft/raft-level'
import {
  createPinsetState,
  encodeOperation,
  type Pin,
  type PinInput,
  type PinsetState,
} from '@pinraft/state-pinset'
import { backupAndClean } from './backups.ts'
import type { RaftConfiguration } from './configuration/configuration.ts'
import type { AbortOptions } from './consensus-api.ts'
import { OperationRejectedError } from './errors.ts'

/**
 * Offline state management (`pinraft state export|import|cleanup`), for a peer whose daemon is
 * not running: LevelDB's lock makes these fail with a clear error if it is.
 */

interface LoadedState {
  state: PinsetState
  configuration: Configuration
}

/** Rebuilds this peer's pinset from its newest snapshot and the committed log after it. */
async function loadState(storage: RaftStorage, options?: AbortOptions): Promise<LoadedState> {
  const state = createPinsetState()
  const configuration = await replay(storage, state, options)
  return { state, configuration }
}

/**
 * The peerset of this peer's committed Raft state, as `loadState` finds it, without reading a
 * pin: an import replaces the pinset and only keeps the peers.
 */
function loadConfiguration(storage: RaftStorage, options?: AbortOptions): Promise<Configuration> {
  return replay(storage, undefined, options)
}

/** Replays the newest snapshot and the committed log after it into `state` (if given). */
async function replay(
  storage: RaftStorage,
  state: PinsetState | undefined,
  options?: AbortOptions,
): Promise<Configuration> {
  let configuration = emptyConfiguration
  let applied = 0
  const newest = (await storage.snapshotStore.list(options))[0]
  if (newest !== undefined) {
    if (state !== undefined) {
      const opened = await storage.snapshotStore.open(newest.id, options)
      await state.restore(opened.data, options)
    }
    configuration = newest.configuration
    applied = newest.index
  }
  const commit = (await storage.stableStore.load(options))?.commit ?? 0
  const first = Math.max(await storage.logStore.firstIndex(options), applied + 1)
  const last = Math.min(await storage.logStore.lastIndex(options), commit)
  for (let low = first; low <= last; low += 4096) {
    const high = Math.min(last + 1, low + 4096)
    for (const entry of await storage.logStore.entries(low, high, options)) {
      if (entry.type === 'normal') {
        state?.apply({ index: entry.index, term: entry.term, data: entry.data })
      } else if (entry.type === 'configuration') {
        try {
          configuration = applyConfigurationChange(
            configuration,
            decodeConfigurationChange(entry.data),
          )
        } catch {
          // Raft skipped it the same way.
        }
      }
    }
  }
  return configuration
}

/** This peer's pins, from its Raft data (snapshot and committed log), in CID order. */
export async function* exportOfflineState(
  configuration: RaftConfiguration,
  options?: AbortOptions,
): AsyncGenerator<Pin> {
  const storage = await openRaftStorage({ directory: configuration.dataFolder })
  try {
    const { state } = await loadState(storage, options)
    yield* state.list(options)
  } finally {
    await storage.close()
  }
}

/**
 * Replaces this peer's state with `pins`: every pin is validated first (nothing changes if one
 * is bad), the current Raft data is moved to a rotated backup, and a new snapshot at index 1,
 * term 1 holds the new pinset with the cluster's current configuration (or `peers` for a peer
 * without state). Every peer of the cluster must import the same pins while all are stopped.
 * Returns how many pins were imported.
 */
export async function importOfflineState(
  configuration: RaftConfiguration,
  pins: AsyncIterable<PinInput> | Iterable<PinInput>,
  options: AbortOptions & { peers?: readonly string[] } = {},
): Promise<number> {
  const imported = createPinsetState()
  let index = 0
  for await (const pin of pins) {
    options.signal?.throwIfAborted()
    let data: Uint8Array
    try {
      data = encodeOperation({ type: 'pin', pin })
    } catch (error) {
      throw new OperationRejectedError(
        `pin ${index + 1} cannot be imported: ${(error as Error).message}`,
      )
    }
    const result = imported.apply({ index: ++index, term: 1, data })
    if (result.kind === 'rejected') {
      throw new OperationRejectedError(`pin ${index} cannot be imported: ${result.error.message}`)
    }
  }
  return importOfflinePinset(configuration, imported, options)
}

/**
 * As `importOfflineState`, for a pinset already built and validated (`importState` of
 * `@pinraft/state-pinset` reads an export file into one): no second copy of a large pinset is
 * made. `pinset` must not change until this resolves. Returns how many pins it holds.
 */
export async function importOfflinePinset(
  configuration: RaftConfiguration,
  imported: PinsetState,
  options: AbortOptions & { peers?: readonly string[] } = {},
): Promise<number> {
  let peers: Configuration
  const current = await openRaftStorage({ directory: configuration.dataFolder })
  try {
    peers = await loadConfiguration(current, options)
  } finally {
    await current.close()
  }
  if (peers.voters.length === 0) {
    const fallback = [...new Set([...(options.peers ?? []), ...configuration.initPeerset])]
    if (fallback.length === 0) {
      throw new OperationRejectedError(
        'this peer has no Raft state to take the peerset from: give the peers to import with (init_peerset or --peers)',
      )
    }
    peers = makeConfiguration({ voters: fallback })
  }
  await backupAndClean(configuration.dataFolder, Math.max(1, configuration.backupsRotate))
  const storage = await openRaftStorage({ directory: configuration.dataFolder })
  try {
    const sink = await storage.snapshotStore.create(
      { index: 1, term: 1, configuration: peers },
      options,
    )
    try {
      for await (const chunk of imported.snapshot(options)) await sink.write(chunk, options)
      await sink.close(options)
    } catch (error) {
      await sink.abort()
      throw error
    }
    await storage.stableStore.save({ term: 1, vote: null, commit: 1 }, options)
  } finally {
    await storage.close()
  }
  return imported.count()
}

/** Moves this peer's Raft data to a rotated backup (`backups_rotate` kept): it starts empty. */
export async function cleanupOfflineState(
  configuration: RaftConfiguration,
  _options?: AbortOptions,
): Promise<string | null> {
  return backupAndClean(configuration.dataFolder, configuration.backupsRotate)
}
