import { describe, expect, it } from 'vitest'
import {
  MemoryLogStore,
  MemorySnapshotStore,
  MemoryStableStore,
  memoryLogStore,
  memorySnapshotStore,
  memoryStableStore,
} from '../src/index.ts'
import {
  logStoreComplianceTests,
  snapshotStoreComplianceTests,
  stableStoreComplianceTests,
  testEntry,
} from '../src/testing/index.ts'

logStoreComplianceTests('MemoryLogStore', async () => {
  const store = memoryLogStore()
  return { store, close: async () => {}, injectFailure: () => store.failNext() }
})

stableStoreComplianceTests('MemoryStableStore', async () => {
  const store = memoryStableStore()
  return { store, close: async () => {}, injectFailure: () => store.failNext() }
})

snapshotStoreComplianceTests('MemorySnapshotStore (default retention)', async () => {
  const store = memorySnapshotStore()
  return { store, retain: 2, close: async () => {}, injectFailure: () => store.failNext() }
})

snapshotStoreComplianceTests('MemorySnapshotStore (retain 4)', async () => {
  const store = memorySnapshotStore({ retain: 4 })
  return { store, retain: 4, close: async () => {} }
})

describe('memory stores', () => {
  it('a log store made with copyEntries false shares the entries it is given, as etcd does', async () => {
    const store = new MemoryLogStore({ copyEntries: false })
    const batch = [testEntry(1, 1), testEntry(2, 1)]
    await store.append(batch)
    const read = await store.entries(1, 3)
    expect(read[0]).toBe(batch[0])
    expect(read[1]).toBe(batch[1])
    // Truncation and ranges behave as with copies.
    await store.truncateSuffix(2)
    expect(await store.lastIndex()).toBe(1)
  })

  it('a log store copies entries by default, so a caller reusing its buffers changes nothing', async () => {
    const store = new MemoryLogStore()
    const batch = [testEntry(1, 1)]
    await store.append(batch)
    const [read] = await store.entries(1, 2)
    expect(read).not.toBe(batch[0])
    expect(read?.data).not.toBe(batch[0]?.data)
  })

  it('report the injected cause inside the StorageFailedError', async () => {
    const store = new MemoryLogStore()
    const cause = new Error('disk on fire')
    store.failNext(cause)
    const error = await store.append([testEntry(1, 1)]).catch((error: Error) => error)
    expect(error).toMatchObject({ name: 'StorageFailedError', cause })
    expect(error?.message).toMatch(/disk on fire/)
    expect(store.failure).toBe(cause)
    expect(await store.lastIndex()).toBe(0)
  })

  it('fail() makes every store refuse writes at once, while reads keep working', async () => {
    const log = new MemoryLogStore()
    await log.append([testEntry(1, 1)])
    log.fail()
    await expect(log.append([testEntry(2, 1)])).rejects.toHaveProperty('name', 'StorageFailedError')
    expect(await log.entries(1, 2)).toHaveLength(1)

    const stable = new MemoryStableStore()
    stable.fail()
    await expect(stable.save({ term: 1, vote: null, commit: 0 })).rejects.toHaveProperty(
      'name',
      'StorageFailedError',
    )

    const snapshots = new MemorySnapshotStore()
    const sink = await snapshots.create({
      index: 1,
      term: 1,
      configuration: { voters: ['a'], nonVoters: [], staging: [] },
    })
    snapshots.fail()
    await expect(sink.write(new Uint8Array(1))).rejects.toHaveProperty('name', 'StorageFailedError')
    await expect(sink.close()).rejects.toHaveProperty('name', 'StorageFailedError')
    expect(await snapshots.list()).toEqual([])
  })

  it('rejects a retention below one with an InvalidOptionError', () => {
    expect(() => new MemorySnapshotStore({ retain: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidOptionError' }),
    )
  })

  it('rejects calls whose signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    await expect(
      new MemoryLogStore().append([testEntry(1, 1)], { signal: controller.signal }),
    ).rejects.toHaveProperty('name', 'AbortedError')
  })
})
