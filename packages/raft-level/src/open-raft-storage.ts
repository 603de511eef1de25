import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@pinraft/raft-core'
import { RaftDatabase } from './database.ts'
import { LevelLogStore } from './log-store.ts'
import { warningLogger } from './logger.ts'
import { FileSnapshotStore } from './snapshot-store.ts'
import { LevelStableStore } from './stable-store.ts'
import { findStaleState, type StaleState } from './stale-state.ts'

export interface RaftStorageInit {
  /**
   * The peer's Raft folder. It gets `level/` (LevelDB: log, term and vote) and `snapshots/`;
   * both are created if missing.
   */
  directory: string
  /** How many snapshots to keep (default 5). */
  retainSnapshots?: number
  /** Receives warnings about damaged or stray snapshot folders (default: process warnings). */
  logger?: Logger
  /**
   * LevelDB's write buffer (memtable) in bytes, default 4 MiB: how much of the log LevelDB keeps
   * in its write-ahead log before writing a table. Tests lower it to get tables quickly.
   */
  writeBufferSize?: number
  /**
   * Where the checks on open read LevelDB's files (default true: in a short-lived child
   * process). LevelDB aborts the whole process on some damaged tables; in a child that becomes a
   * `StorageCorruptError`. With false the checks run in this process: faster (no process start),
   * and a damaged store is still refused and left as it was, but such a table may kill the
   * process instead. For tests of undamaged stores.
   */
  checkInChildProcess?: boolean
}

export interface RaftStorage {
  readonly logStore: LevelLogStore
  readonly stableStore: LevelStableStore
  readonly snapshotStore: FileSnapshotStore
  /** The LevelDB handle the log and stable store share (for its `failure`, and for tests). */
  readonly database: RaftDatabase
  /**
   * Set when the local data cannot rebuild the state this peer had reached (a damaged or
   * missing newest snapshot that the log does not make up for); logged as an error on open. The
   * peer may run, but must not report ready until it has caught up with a leader. Damage found
   * later, while a snapshot is read, is a `snapshot:damaged` event of `snapshotStore`.
   */
  readonly stale: StaleState | undefined
  /** Waits for writes in flight, aborts unfinished snapshots and closes LevelDB. */
  close(): Promise<void>
}

/**
 * Opens the durable stores of one Raft peer. Every problem found on the way (a lock held by
 * another process, a newer format, damage) rejects with an error that names the folder and says
 * what to do; nothing is repaired or dropped silently.
 */
export async function openRaftStorage(init: RaftStorageInit): Promise<RaftStorage> {
  const logger = init.logger ?? warningLogger
  await mkdir(init.directory, { recursive: true })
  const database = await RaftDatabase.open(join(init.directory, 'level'), logger, {
    writeBufferSize: init.writeBufferSize,
    checkInChildProcess: init.checkInChildProcess,
  })
  try {
    const logStore = LevelLogStore.open(database)
    const stableStore = new LevelStableStore(database)
    const snapshotStore = await FileSnapshotStore.open({
      directory: join(init.directory, 'snapshots'),
      retain: init.retainSnapshots ?? 5,
      logger,
    })
    const hardState = await stableStore.load()
    const stale = findStaleState({
      location: init.directory,
      commit: hardState?.commit ?? 0,
      first: await logStore.firstIndex(),
      last: await logStore.lastIndex(),
      usableSnapshot: (await snapshotStore.list())[0],
      damagedSnapshots: snapshotStore.newerDamaged,
    })
    if (stale !== undefined) logger.error(stale.message, { directory: init.directory })
    return {
      logStore,
      stableStore,
      snapshotStore,
      database,
      stale,
      async close() {
        await snapshotStore.close()
        await database.close()
      },
    }
  } catch (error) {
    await database.close().catch(() => {})
    throw error
  }
}
