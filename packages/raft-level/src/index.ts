export type { LevelInstance, SummaryChange, WriteOperation } from './database.ts'
export { RaftDatabase } from './database.ts'
export type { DurableSummary } from './durable-record.ts'
export { durableRecordName } from './durable-record.ts'
export {
  InvalidRecordError,
  StorageClosedError,
  StorageLockedError,
  StorageOpenError,
  StorageVersionError,
} from './errors.ts'
export { LevelLogStore } from './log-store.ts'
export type { RaftStorage, RaftStorageInit } from './open-raft-storage.ts'
export { openRaftStorage } from './open-raft-storage.ts'
export type { SnapshotMeta } from './snapshot-meta.ts'
export { snapshotFormatVersion } from './snapshot-meta.ts'
export type {
  DamagedSnapshot,
  FileSnapshotStoreEvents,
  FileSnapshotStoreInit,
  InvalidSnapshot,
  SnapshotInspection,
} from './snapshot-store.ts'
export { FileSnapshotStore, openSnapshotStore } from './snapshot-store.ts'
export { LevelStableStore } from './stable-store.ts'
export type { StaleState } from './stale-state.ts'
export { formatVersion } from './store-inspection.ts'
