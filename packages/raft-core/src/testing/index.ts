/**
 * Test helpers other packages reuse: the storage compliance suites every `LogStore`,
 * `StableStore` and `SnapshotStore` must pass. Needs vitest (an optional peer dependency).
 */
export type { OpenStore, SnapshotStoreHarness, StoreHarness } from './storage-compliance.ts'
export {
  logStoreComplianceTests,
  snapshotStoreComplianceTests,
  stableStoreComplianceTests,
  testEntry,
} from './storage-compliance.ts'
