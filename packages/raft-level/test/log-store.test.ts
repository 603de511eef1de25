import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Entry } from '@pinraft/raft-core'
import { testEntry } from '@pinraft/raft-core/testing'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { openRaftStorage, type RaftStorage } from '../src/index.ts'
import { logKey } from '../src/keys.ts'
import { temporaryDirectory } from './temporary-directory.ts'

const openStore = fileURLToPath(new URL('./fixtures/open-store.ts', import.meta.url))

function run(from: number, through: number, term = 1): Entry[] {
  const entries: Entry[] = []
  for (let index = from; index <= through; index++) entries.push(testEntry(index, term))
  return entries
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: Error) => error,
  )
}

let directory: Awaited<ReturnType<typeof temporaryDirectory>>
let storage: RaftStorage | undefined

beforeEach(async () => {
  directory = await temporaryDirectory()
})

afterEach(async () => {
  await storage?.close()
  storage = undefined
  await directory.remove()
})

async function openStorage(): Promise<RaftStorage> {
  storage = await openRaftStorage({ directory: directory.path })
  return storage
}

async function closeStorage(): Promise<void> {
  await storage?.close()
  storage = undefined
}

/** Opens the raw LevelDB under the store, to damage it the way a bad disk would. */
async function withRawLevel(body: (level: Level<Uint8Array, Uint8Array>) => Promise<void>) {
  const level = new Level<Uint8Array, Uint8Array>(join(directory.path, 'level'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  })
  await level.open()
  try {
    await body(level)
  } finally {
    await level.close()
  }
}

describe('group commit', () => {
  it('writes appends made in the same tick in one synced batch, in call order', async () => {
    const { logStore, database } = await openStorage()
    const batch = vi.spyOn(database.level, 'batch')
    await Promise.all(Array.from({ length: 64 }, (_, i) => logStore.append(run(i + 1, i + 1))))
    expect(batch).toHaveBeenCalledTimes(1)
    expect(batch.mock.calls[0]).toEqual([expect.any(Array), { sync: true }])
    expect(await logStore.lastIndex()).toBe(64)
    expect((await logStore.entries(1, 65)).map((entry) => entry.index)).toEqual(
      run(1, 64).map((entry) => entry.index),
    )
  })

  it('queues appends while a batch is in flight and writes them together next', async () => {
    const { logStore, database } = await openStorage()
    const level = database.level
    const original = level.batch.bind(level)
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const batches: number[] = []
    vi.spyOn(level, 'batch').mockImplementation((async (operations: unknown[], options: object) => {
      batches.push(operations.length)
      if (batches.length === 1) await gate
      return original(operations as never, options as never)
    }) as never)
    const settled: number[] = []
    const first = logStore.append(run(1, 1)).then(() => settled.push(1))
    await vi.waitFor(() => expect(batches).toHaveLength(1))
    const later = Array.from({ length: 10 }, (_, i) =>
      logStore.append(run(i + 2, i + 2)).then(() => settled.push(i + 2)),
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    // Nothing resolves before the batch holding it is written and synced.
    expect(settled).toEqual([])
    expect(await logStore.lastIndex()).toBe(0)
    release()
    await Promise.all([first, ...later])
    // Each batch also carries the store's sequence number.
    expect(batches).toEqual([2, 11])
    expect(settled).toEqual(run(1, 11).map((entry) => entry.index))
    expect(await logStore.lastIndex()).toBe(11)
  })

  it('shares one sync between a hard state save and an append made together', async () => {
    const { logStore, stableStore, database } = await openStorage()
    const batch = vi.spyOn(database.level, 'batch')
    await Promise.all([
      stableStore.save({ term: 2, vote: 'node-a', commit: 0 }),
      logStore.append(run(1, 3, 2)),
    ])
    expect(batch).toHaveBeenCalledTimes(1)
  })
})

describe('fail-stop', () => {
  it('rejects the failed batch, everything queued behind it and every later write', async () => {
    const { logStore, stableStore, database } = await openStorage()
    await logStore.append(run(1, 2))
    vi.spyOn(database.level, 'batch').mockRejectedValueOnce(new Error('IO error: disk gone'))
    const results = await Promise.allSettled([
      logStore.append(run(3, 3)),
      logStore.append(run(4, 4)),
    ])
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { name: 'StorageFailedError' } })
    }
    const error = (results[0] as PromiseRejectedResult).reason as Error
    expect(error.message).toContain('disk gone')
    expect(error.message).toContain(database.location)
    expect(error.message).toMatch(/restart/)
    // The disk "recovered" (the spy only failed once), but the handle stays failed.
    expect((await rejection(logStore.append(run(3, 3)))).name).toBe('StorageFailedError')
    expect((await rejection(stableStore.save({ term: 1, vote: null, commit: 0 }))).name).toBe(
      'StorageFailedError',
    )
    expect(database.failure).toBe(error)
    expect(await logStore.lastIndex()).toBe(2)
    await closeStorage()
    const reopened = await openStorage()
    expect(await reopened.logStore.lastIndex()).toBe(2)
  })
})

describe('checks on open and read', () => {
  it('refuses a second open of the same folder with StorageLockedError', async () => {
    await openStorage()
    const error = await rejection(openRaftStorage({ directory: directory.path }))
    expect(error.name).toBe('StorageLockedError')
    expect(error.message).toContain(directory.path)
  })

  it('refuses an open by another process with StorageLockedError, and keeps its own lock', async () => {
    const { logStore } = await openStorage()
    await logStore.append(run(1, 3))
    const other = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--conditions=@pinraft/source', '--no-warnings', openStore, directory.path],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        let output = ''
        child.stdout.setEncoding('utf8').on('data', (text: string) => {
          output += text
        })
        child.on('error', reject)
        child.on('close', () => resolve(output))
      })
    expect(await other()).toMatch(/^error StorageLockedError: .*locked by another process/)
    // The other process's check ran on links to this store's files and took nothing from it:
    // the lock still holds, and this handle still writes.
    expect(await other()).toMatch(/^error StorageLockedError/)
    await logStore.append(run(4, 4))
    await closeStorage()
    expect(await other()).toBe('opened\n')
    expect(await (await openStorage()).logStore.lastIndex()).toBe(4)
  })

  it('refuses a store written in a newer format with StorageVersionError', async () => {
    await openStorage()
    await closeStorage()
    await withRawLevel(async (level) => {
      const { formatKey } = await import('../src/keys.ts')
      await level.put(formatKey, new TextEncoder().encode('{"format":3}'))
    })
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageVersionError')
    expect(error.message).toMatch(/format 3.*newer release/)
  })

  it('refuses a store of format 1 (no durable record) with StorageVersionError and advice', async () => {
    await openStorage()
    await closeStorage()
    await withRawLevel(async (level) => {
      const { formatKey } = await import('../src/keys.ts')
      await level.put(formatKey, new TextEncoder().encode('{"format":1}'))
    })
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageVersionError')
    expect(error.message).toMatch(/format 1.*earlier development release.*state cleanup/)
  })

  it('refuses LevelDB data without a format version with StorageCorruptError', async () => {
    await withRawLevel(async (level) => {
      await level.put(Uint8Array.of(9, 9), Uint8Array.of(1))
    })
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageCorruptError')
    expect(error.message).toMatch(/not a raft-level store/)
  })

  it('refuses a log with a hole with StorageCorruptError', async () => {
    const { logStore } = await openStorage()
    await logStore.append(run(1, 10))
    await closeStorage()
    await withRawLevel((level) => level.del(logKey(5)))
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageCorruptError')
    expect(error.message).toMatch(/holes in its log: it runs from 1 to 10 but holds 9/)
  })

  it('refuses to open a store with a damaged entry, naming the index', async () => {
    const { logStore } = await openStorage()
    await logStore.append(run(1, 3))
    await closeStorage()
    await withRawLevel(async (level) => {
      const value = (await level.get(logKey(2)))!
      value[value.length - 1]! ^= 0x01
      await level.put(logKey(2), value)
    })
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageCorruptError')
    expect(error.message).toMatch(/log entry 2 .*checksum mismatch/)
  })

  it('refuses to open a store with a damaged hard state', async () => {
    const { stableStore } = await openStorage()
    await stableStore.save({ term: 3, vote: 'node-a', commit: 1 })
    await closeStorage()
    await withRawLevel(async (level) => {
      const { hardStateKey } = await import('../src/keys.ts')
      const value = (await level.get(hardStateKey))!
      value[6]! ^= 0x01
      await level.put(hardStateKey, value)
    })
    const error = await rejection(openStorage())
    expect(error.name).toBe('StorageCorruptError')
    expect(error.message).toMatch(/damaged term and vote/)
  })

  it('rejects entries it cannot encode with InvalidRecordError, writing nothing', async () => {
    const { logStore } = await openStorage()
    const bad = { ...testEntry(1, 1), type: 'bogus' } as unknown as Entry
    expect((await rejection(logStore.append([testEntry(1, 1), bad]))).name).toBe('LogRangeError')
    expect((await rejection(logStore.append([{ ...bad, index: 1 }]))).name).toBe(
      'InvalidRecordError',
    )
    expect((await rejection(logStore.append([{ ...testEntry(1, 1), term: -1 }]))).name).toBe(
      'InvalidRecordError',
    )
    expect(await logStore.lastIndex()).toBe(0)
    await logStore.append(run(1, 1))
    expect(await logStore.lastIndex()).toBe(1)
  })

  it('rejects a vote too long for the durable record with InvalidRecordError, writing nothing', async () => {
    const { stableStore } = await openStorage()
    const error = await rejection(stableStore.save({ term: 1, vote: 'x'.repeat(1025), commit: 0 }))
    expect(error.name).toBe('InvalidRecordError')
    expect(error.message).toMatch(/1025 bytes long; node ids of up to 1024 bytes/)
    expect(await stableStore.load()).toBeUndefined()
    await stableStore.save({ term: 1, vote: 'x'.repeat(1024), commit: 0 })
    await closeStorage()
    expect((await (await openStorage()).stableStore.load())?.vote).toHaveLength(1024)
  })
})
