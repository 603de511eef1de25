import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@pinraft/raft-core'
import { testEntry } from '@pinraft/raft-core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openRaftStorage, type RaftStorage } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

const configuration = { voters: ['node-a'], nonVoters: [], staging: [] }

let directory: Awaited<ReturnType<typeof temporaryDirectory>>
let storage: RaftStorage | undefined
let errors: string[]

const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(message) {
    errors.push(message)
  },
}

beforeEach(async () => {
  directory = await temporaryDirectory()
  errors = []
})

afterEach(async () => {
  await storage?.close()
  storage = undefined
  await directory.remove()
})

async function reopen(): Promise<RaftStorage> {
  await storage?.close()
  storage = await openRaftStorage({ directory: directory.path, logger, checkInChildProcess: false })
  return storage
}

async function snapshot(index: number): Promise<string> {
  const sink = await storage!.snapshotStore.create({ index, term: 1, configuration })
  await sink.write(new TextEncoder().encode(`state at ${index}`))
  return (await sink.close()).id
}

async function damage(id: string): Promise<void> {
  const handle = await open(join(directory.path, 'snapshots', id, 'state.bin'), 'r+')
  await handle.write(Uint8Array.of(0x00), 0, 1, 0)
  await handle.close()
}

/** Log 1..30 committed, snapshots at 10 and 20, the log compacted as Raft does after them. */
async function peerWithSnapshots(compactThrough: number): Promise<[older: string, newest: string]> {
  const { logStore, stableStore } = await reopen()
  await logStore.append(Array.from({ length: 30 }, (_, i) => testEntry(i + 1, 1)))
  await stableStore.save({ term: 1, vote: 'node-a', commit: 30 })
  const older = await snapshot(10)
  const newest = await snapshot(20)
  await logStore.truncatePrefix(compactThrough)
  return [older, newest]
}

describe('stale local state', () => {
  it('is reported when the newest snapshot is damaged and the log does not reach the older one', async () => {
    const [, newest] = await peerWithSnapshots(15)
    await damage(newest)
    const { stale } = await reopen()
    expect(stale).toMatchObject({
      rebuildableThrough: 10,
      knownThrough: 30,
      usableSnapshot: { index: 10 },
      damagedSnapshots: [{ index: 20, reason: 'state.bin does not match its SHA-256' }],
    })
    expect(stale!.message).toMatch(/only through index 10 .*had reached index 30.*catches up/)
    expect(errors.join('\n')).toContain(stale!.message)
  })

  it('is not reported when the log still covers everything after the older snapshot', async () => {
    const [, newest] = await peerWithSnapshots(5)
    await damage(newest)
    const { stale } = await reopen()
    expect(stale).toBeUndefined()
  })

  it('is reported when the snapshot that covered the compacted log is gone', async () => {
    const [older, newest] = await peerWithSnapshots(15)
    await storage!.close()
    storage = undefined
    await rm(join(directory.path, 'snapshots', older), { recursive: true })
    await rm(join(directory.path, 'snapshots', newest), { recursive: true })
    const { stale } = await reopen()
    expect(stale).toMatchObject({ rebuildableThrough: 0, knownThrough: 30, damagedSnapshots: [] })
    expect(stale!.message).toMatch(/the snapshot that covered the log before index 16 is missing/)
  })

  it('is not reported for an undamaged peer', async () => {
    await peerWithSnapshots(15)
    expect((await reopen()).stale).toBeUndefined()
  })
})
