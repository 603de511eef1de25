import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import type { Entry } from '@pinraft/raft-core'
import { afterEach, beforeEach, expect, it, type TestContext } from 'vitest'
import { openRaftStorage, type RaftStorage } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

// A real full disk: a 1 MiB tmpfs made by the test. Needs root (mount); skipped otherwise.
let directory: Awaited<ReturnType<typeof temporaryDirectory>>
let mounted = false
let skipReason: string | undefined
let storage: RaftStorage | undefined

beforeEach(async () => {
  directory = await temporaryDirectory()
  skipReason = undefined
  if (process.getuid?.() !== 0) {
    skipReason = 'needs root to mount a small tmpfs'
    return
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', directory.path], {
      stdio: 'pipe',
    })
    mounted = true
  } catch (error) {
    skipReason = `could not mount a tmpfs (${(error as Error).message.split('\n')[0]})`
  }
})

afterEach(async () => {
  await storage?.close().catch(() => {})
  storage = undefined
  if (mounted) execFileSync('umount', [directory.path])
  mounted = false
  await directory.remove()
})

function skipUnlessMounted(context: TestContext): void {
  if (skipReason !== undefined) context.skip(skipReason)
}

function grow(size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, directory.path])
}

function entry(index: number): Entry {
  return { index, term: 1, type: 'normal', data: new Uint8Array(4096).fill(index & 0xff) }
}

it('fails stop when the disk fills up during appends, losing nothing acknowledged', async (context) => {
  skipUnlessMounted(context)
  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  let acknowledged = 0
  let failure: Error | undefined
  // 1 MiB holds at most ~250 entries of 4 KiB: the loop is bounded by the disk.
  for (let index = 1; index <= 1000 && failure === undefined; index += 4) {
    try {
      await storage.logStore.append([
        entry(index),
        entry(index + 1),
        entry(index + 2),
        entry(index + 3),
      ])
      acknowledged = index + 3
    } catch (error) {
      failure = error as Error
    }
  }
  expect(failure?.name).toBe('StorageFailedError')
  expect(failure?.message).toMatch(/No space left on device/)
  expect(failure?.message).toMatch(/restart the process/)
  expect(acknowledged).toBeGreaterThan(0)

  // Room again, but the handle stays failed: a write after a failed one is never acknowledged.
  grow('16m')
  await expect(storage.logStore.append([entry(acknowledged + 1)])).rejects.toHaveProperty(
    'name',
    'StorageFailedError',
  )
  await expect(storage.stableStore.save({ term: 1, vote: null, commit: 0 })).rejects.toHaveProperty(
    'name',
    'StorageFailedError',
  )
  await storage.close().catch(() => {})

  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  const last = await storage.logStore.lastIndex()
  expect(last).toBeGreaterThanOrEqual(acknowledged)
  const entries = await storage.logStore.entries(1, acknowledged + 1)
  expect(entries.every((stored) => stored.data[0] === (stored.index & 0xff))).toBe(true)
  await storage.logStore.append([entry(last + 1)])
  expect(await storage.logStore.lastIndex()).toBe(last + 1)
})

it('refuses to open on a full disk with StorageOpenError, not as damage, and opens once there is room', async (context) => {
  skipUnlessMounted(context)
  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  let acknowledged = 0
  // Bounded by the disk, as above.
  for (let index = 1; index <= 1000; index++) {
    try {
      await storage.logStore.append([entry(index)])
      acknowledged = index
    } catch {
      break
    }
  }
  await storage.close().catch(() => {})
  storage = undefined
  const error = await openRaftStorage({ directory: join(directory.path, 'raft') }).then(
    async (opened) => {
      await opened.close()
      return undefined
    },
    (failure: Error) => failure,
  )
  expect(error?.name).toBe('StorageOpenError')
  expect(error?.message).toMatch(/no space left on device.*free disk space/i)
  grow('16m')
  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  expect(await storage.logStore.lastIndex()).toBeGreaterThanOrEqual(acknowledged)
})

it('fails stop when the disk fills up during a snapshot, keeping published ones', async (context) => {
  skipUnlessMounted(context)
  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  const configuration = { voters: ['node-a'], nonVoters: [], staging: [] }
  const small = await storage.snapshotStore.create({ index: 1, term: 1, configuration })
  await small.write(new Uint8Array(1000).fill(7))
  const kept = await small.close()

  const big = await storage.snapshotStore.create({ index: 2, term: 1, configuration })
  let failure: Error | undefined
  for (let i = 0; i < 64 && failure === undefined; i++) {
    await big.write(new Uint8Array(64 * 1024)).catch((error: Error) => {
      failure = error
    })
  }
  if (failure === undefined) await big.close().catch((error: Error) => (failure = error))
  expect(failure?.name).toBe('StorageFailedError')
  expect(failure?.message).toMatch(/no space left on device/i)
  expect(await storage.snapshotStore.list()).toEqual([kept])
  grow('16m')
  await expect(
    storage.snapshotStore.create({ index: 3, term: 1, configuration }),
  ).rejects.toHaveProperty('name', 'StorageFailedError')
  await storage.close()

  storage = await openRaftStorage({ directory: join(directory.path, 'raft') })
  expect(await storage.snapshotStore.list()).toEqual([kept])
  expect((await storage.snapshotStore.inspect()).invalid).toEqual([])
})
