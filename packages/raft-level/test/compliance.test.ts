import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogStore, StableStore } from '@pinraft/raft-core'
import { silentLogger } from '@pinraft/raft-core'
import type { SnapshotStoreHarness, StoreHarness } from '@pinraft/raft-core/testing'
import {
  logStoreComplianceTests,
  snapshotStoreComplianceTests,
  stableStoreComplianceTests,
} from '@pinraft/raft-core/testing'
import { openRaftStorage, type RaftStorage } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

/** A harness over `openRaftStorage` that reopens the same folder and removes it at the end. */
async function harnessFor<S>(pick: (storage: RaftStorage) => S): Promise<StoreHarness<S>> {
  const directory = await temporaryDirectory()
  const make = (storage: RaftStorage): StoreHarness<S> => ({
    store: pick(storage),
    async close() {
      await storage.close()
      await directory.remove()
    },
    async reopen() {
      await storage.close()
      return make(await openRaftStorage({ directory: directory.path, logger: silentLogger }))
    },
    // Closing LevelDB under the store makes its next batch fail, as a dying disk would.
    async injectFailure() {
      await storage.database.level.close()
    },
  })
  return make(await openRaftStorage({ directory: directory.path, logger: silentLogger }))
}

logStoreComplianceTests('LevelLogStore', () => harnessFor<LogStore>((storage) => storage.logStore))

stableStoreComplianceTests('LevelStableStore', () =>
  harnessFor<StableStore>((storage) => storage.stableStore),
)

snapshotStoreComplianceTests('FileSnapshotStore', async () => {
  const directory = await temporaryDirectory()
  const make = (storage: RaftStorage): SnapshotStoreHarness => ({
    store: storage.snapshotStore,
    retain: 5,
    async close() {
      await storage.close()
      await directory.remove()
    },
    async reopen() {
      await storage.close()
      return make(await openRaftStorage({ directory: directory.path, logger: silentLogger }))
    },
    async corrupt(id) {
      const handle = await open(join(directory.path, 'snapshots', id, 'state.bin'), 'r+')
      const byte = new Uint8Array(1)
      await handle.read(byte, 0, 1, 10)
      byte[0]! ^= 0xff
      await handle.write(byte, 0, 1, 10)
      await handle.close()
    },
  })
  return make(await openRaftStorage({ directory: directory.path, logger: silentLogger }))
})
