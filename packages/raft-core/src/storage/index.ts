export type { LogStore } from './log-store.ts'
export type { MemoryLogStoreInit } from './memory-log-store.ts'
export { checkLogAppend, MemoryLogStore, memoryLogStore } from './memory-log-store.ts'
export type { MemorySnapshotStoreInit } from './memory-snapshot-store.ts'
export { MemorySnapshotStore, memorySnapshotStore } from './memory-snapshot-store.ts'
export { MemoryStableStore, memoryStableStore } from './memory-stable-store.ts'
export type {
  OpenedSnapshot,
  SnapshotSink,
  SnapshotStore,
  StoredSnapshot,
} from './snapshot-store.ts'
export type { StableStore } from './stable-store.ts'
