import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger, SnapshotMetadata } from '@pinraft/raft-core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type FileSnapshotStore, openSnapshotStore } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

const configuration = { voters: ['node-a', 'node-b'], nonVoters: [], staging: ['node-c'] }

function metadata(index: number, term: number): SnapshotMetadata {
  return { index, term, configuration }
}

let directory: Awaited<ReturnType<typeof temporaryDirectory>>
let store: FileSnapshotStore | undefined
let warnings: string[]

const logger: Logger = {
  debug() {},
  info() {},
  warn(message) {
    warnings.push(message)
  },
  error(message) {
    warnings.push(message)
  },
}

beforeEach(async () => {
  directory = await temporaryDirectory()
  warnings = []
})

afterEach(async () => {
  await store?.close()
  store = undefined
  await directory.remove()
})

async function openStore(retain?: number): Promise<FileSnapshotStore> {
  await store?.close()
  store = await openSnapshotStore({ directory: directory.path, logger, retain })
  return store
}

async function write(index: number, term: number, text = `state at ${index}`) {
  const sink = await store!.create(metadata(index, term))
  await sink.write(new TextEncoder().encode(text))
  return sink.close()
}

async function read(id: string): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of (await store!.open(id)).data) parts.push(chunk)
  return Buffer.concat(parts).toString()
}

async function flipByte(file: string, position: number): Promise<void> {
  const handle = await open(file, 'r+')
  const byte = new Uint8Array(1)
  await handle.read(byte, 0, 1, position)
  byte[0]! ^= 0xff
  await handle.write(byte, 0, 1, position)
  await handle.close()
}

describe('FileSnapshotStore', () => {
  it('publishes meta.json with format, index, term, configuration, size and sha256', async () => {
    await openStore()
    const stored = await write(7, 2, 'hello')
    const meta = JSON.parse(await readFile(join(directory.path, stored.id, 'meta.json'), 'utf8'))
    expect(meta).toEqual({
      format: 1,
      index: 7,
      term: 2,
      size: 5,
      configuration,
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    })
    expect(stored.id).toMatch(/^2-7-[0-9a-f]+$/)
    expect(await readdir(directory.path)).toEqual([stored.id])
  })

  it('keeps five snapshots by default', async () => {
    await openStore()
    for (let index = 1; index <= 7; index++) await write(index * 10, 1)
    expect((await store!.list()).map((snapshot) => snapshot.index)).toEqual([70, 60, 50, 40, 30])
    expect(await readdir(directory.path)).toHaveLength(5)
  })

  it('removes a half-written snapshot on open and never lists it', async () => {
    await openStore()
    const kept = await write(10, 1)
    const sink = await store!.create(metadata(20, 2))
    await sink.write(new Uint8Array(1000))
    // Simulate a crash: reopen without closing or aborting the sink.
    const crashed = store!
    store = await openSnapshotStore({ directory: directory.path, logger })
    expect((await store.list()).map((snapshot) => snapshot.id)).toEqual([kept.id])
    expect(await readdir(directory.path)).toEqual([kept.id])
    expect(warnings).toEqual([])
    await crashed.close()
  })

  it('never picks a stray folder with a higher term, and says so', async () => {
    await openStore()
    const kept = await write(10, 1)
    await mkdir(join(directory.path, '99-1000-abc'))
    await writeFile(join(directory.path, '99-1000-abc', 'state.bin'), 'stray')
    await mkdir(join(directory.path, 'backup-of-something'))
    await openStore()
    expect((await store!.list()).map((snapshot) => snapshot.id)).toEqual([kept.id])
    const { invalid } = await store!.inspect()
    expect(invalid.map((entry) => entry.folder).sort()).toEqual([
      join(directory.path, '99-1000-abc'),
      join(directory.path, 'backup-of-something'),
    ])
    expect(invalid.find((entry) => entry.folder.endsWith('abc'))!.reason).toMatch(
      /meta\.json is missing/,
    )
    expect(warnings.join('\n')).toMatch(
      /newest snapshot folder .*99-1000-abc \(index 1000\) is damaged: meta\.json is missing/,
    )
    expect(warnings.join('\n')).toMatch(/backup-of-something is not used/)
  })

  it('never picks a snapshot whose folder name disagrees with its metadata', async () => {
    await openStore()
    const real = await write(10, 1)
    await write(5, 1)
    const { rename } = await import('node:fs/promises')
    // A folder claiming a higher term than its metadata holds (IPFS Cluster issue #424).
    await rename(join(directory.path, real.id), join(directory.path, '9-10-ffff'))
    await openStore()
    expect((await store!.list()).map((snapshot) => snapshot.index)).toEqual([5])
    expect((await store!.inspect()).invalid[0]!.reason).toMatch(/folder name says term 9/)
  })

  it('opens the newest valid snapshot when a newer one has a bad checksum, and says so loudly', async () => {
    await openStore()
    await write(10, 1, 'older state')
    const newest = await write(20, 1, 'newest state')
    await flipByte(join(directory.path, newest.id, 'state.bin'), 3)
    await openStore()
    const listed = await store!.list()
    expect(listed.map((snapshot) => snapshot.index)).toEqual([10])
    expect(await read(listed[0]!.id)).toBe('older state')
    const damaged = {
      folder: join(directory.path, newest.id),
      reason: 'state.bin does not match its SHA-256',
      index: 20,
      term: 1,
    }
    expect(await store!.inspect()).toEqual({
      valid: listed,
      invalid: [damaged],
      newerDamaged: [damaged],
    })
    expect(store!.newerDamaged).toEqual([damaged])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /newest snapshot folder .* \(index 20\) is damaged: .*falls back to the older snapshot at index 10, so its state is older .*until it catches up with a leader.*delete it/,
    )
  })

  it('says nothing is newer-damaged when only an older snapshot is damaged', async () => {
    await openStore()
    const older = await write(10, 1, 'older state')
    await write(20, 1, 'newest state')
    await flipByte(join(directory.path, older.id, 'state.bin'), 3)
    await openStore()
    expect(store!.newerDamaged).toEqual([])
    expect((await store!.inspect()).invalid).toHaveLength(1)
    expect(warnings[0]).toMatch(/is not used: state.bin does not match/)
  })

  it('detects damage while streaming, throws SnapshotCorruptError and stops listing it', async () => {
    await openStore()
    const stored = await write(10, 1, 'x'.repeat(200_000))
    await flipByte(join(directory.path, stored.id, 'state.bin'), 150_000)
    const events: unknown[] = []
    store!.addEventListener('snapshot:damaged', (event) => events.push(event.detail))
    const chunks: Uint8Array[] = []
    const error = await (async () => {
      for await (const chunk of (await store!.open(stored.id)).data) chunks.push(chunk)
    })().then(
      () => undefined,
      (error: Error) => error,
    )
    expect(error?.name).toBe('SnapshotCorruptError')
    expect(error?.message).toContain(stored.id)
    // It was streamed in chunks, not read whole.
    expect(chunks.length).toBeGreaterThan(1)
    expect(await store!.list()).toEqual([])
    const damaged = {
      folder: join(directory.path, stored.id),
      reason: 'state.bin does not match its SHA-256',
      index: 10,
      term: 1,
    }
    expect(events).toEqual([{ ...damaged, newest: true }])
    expect(store!.newerDamaged).toEqual([damaged])
    expect((await store!.open(stored.id).catch((error: Error) => error)) as Error).toHaveProperty(
      'name',
      'SnapshotNotFoundError',
    )
  })

  it('skips a truncated state.bin and a meta.json from a newer release', async () => {
    await openStore()
    const truncated = await write(10, 1, 'some state')
    const newer = await write(20, 1, 'newer state')
    await writeFile(join(directory.path, truncated.id, 'state.bin'), 'some')
    const metaPath = join(directory.path, newer.id, 'meta.json')
    const meta = JSON.parse(await readFile(metaPath, 'utf8'))
    await writeFile(metaPath, JSON.stringify({ ...meta, format: 2 }))
    await openStore()
    expect(await store!.list()).toEqual([])
    const reasons = (await store!.inspect()).invalid.map((entry) => entry.reason).sort()
    expect(reasons).toEqual([
      'meta.json has format 2, written by a newer release (this one reads 1)',
      'state.bin holds 4 bytes where meta.json says 10',
    ])
  })

  it('rejects a retention below one and metadata it cannot store', async () => {
    await expect(
      openSnapshotStore({ directory: directory.path, retain: 0 }),
    ).rejects.toHaveProperty('name', 'InvalidOptionError')
    await openStore()
    await expect(store!.create(metadata(-1, 1))).rejects.toHaveProperty(
      'name',
      'InvalidRecordError',
    )
    expect(await readdir(directory.path)).toEqual([])
  })
})
