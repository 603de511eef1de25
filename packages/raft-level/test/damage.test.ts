import { createHash } from 'node:crypto'
import {
  cp,
  open as openFile,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Entry, HardState } from '@pinraft/raft-core'
import { silentLogger } from '@pinraft/raft-core'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readDurableRecord, slotBytes } from '../src/durable-record.ts'
import { durableRecordName, openRaftStorage, type RaftStorage } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

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

// Small enough that a few hundred entries give LevelDB several tables besides its log.
const writeBufferSize = 64 * 1024

function openAt(path: string): Promise<RaftStorage> {
  return openRaftStorage({ directory: path, logger: silentLogger, writeBufferSize })
}

async function open(path = directory.path): Promise<RaftStorage> {
  storage = await openAt(path)
  return storage
}

async function close(): Promise<void> {
  await storage?.close()
  storage = undefined
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    async (value) => {
      await (value as RaftStorage).close()
      throw new Error('expected the open to be refused')
    },
    (error: Error) => error,
  )
}

/** Data that differs per entry and compresses badly, so that tables hold it as it is. */
function entryData(index: number, term: number): Uint8Array {
  const data = new Uint8Array(150)
  let state = (index * 2654435761 + term) >>> 0
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0
    data[i] = state >>> 24
  }
  return data
}

function entries(from: number, through: number, term: number): Entry[] {
  const result: Entry[] = []
  for (let index = from; index <= through; index++) {
    result.push({ index, term, type: 'normal', data: entryData(index, term) })
  }
  return result
}

interface Contents {
  readonly hardState: HardState | undefined
  readonly first: number
  readonly last: number
  readonly entries: Entry[]
}

async function contents(opened: RaftStorage): Promise<Contents> {
  const first = await opened.logStore.firstIndex()
  const last = await opened.logStore.lastIndex()
  return {
    hardState: await opened.stableStore.load(),
    first,
    last,
    entries: last === 0 ? [] : await opened.logStore.entries(first, last + 1),
  }
}

/**
 * A peer's worth of history, closed at the end: a term, vote and commit saved and some entries
 * appended per round, a compaction every tenth round.
 */
async function writeHistory(rounds: number): Promise<Contents> {
  const { logStore, stableStore } = await open()
  let last = 0
  for (let round = 1; round <= rounds; round++) {
    await stableStore.save({
      term: round,
      vote: `node-${round % 3}`,
      commit: Math.max(0, last - 5),
    })
    await logStore.append(entries(last + 1, last + 20, round))
    last += 20
    if (round % 10 === 0) await logStore.truncatePrefix(last - 100)
  }
  await stableStore.save({ term: rounds, vote: 'node-0', commit: last })
  const written = await contents(storage!)
  await close()
  return written
}

async function levelFiles(path = directory.path): Promise<string[]> {
  return (await readdir(join(path, 'level'))).sort()
}

/** The SHA-256 of every file under `path`, by relative name. */
async function fingerprint(path = directory.path): Promise<Record<string, string>> {
  const result: Record<string, string> = {}
  for (const item of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (!item.isFile()) continue
    const file = join(item.parentPath, item.name)
    result[relative(path, file)] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
  }
  return result
}

/** Opens, expects a StorageCorruptError, and checks that the folder is left byte for byte. */
async function expectRefusedUntouched(path = directory.path): Promise<Error> {
  const before = await fingerprint(path)
  const error = await rejection(openAt(path))
  expect(error.name).toBe('StorageCorruptError')
  expect(error.message).toContain(join(path, 'level'))
  expect(error.message).toMatch(/restore .*backup.*state cleanup.*--bootstrap/i)
  expect(await fingerprint(path)).toEqual(before)
  return error
}

async function flipByte(file: string, position: number): Promise<void> {
  const handle = await openFile(file, 'r+')
  const byte = new Uint8Array(1)
  await handle.read(byte, 0, 1, position)
  byte[0]! ^= 0x10
  await handle.write(byte, 0, 1, position)
  await handle.close()
}

function varint(bytes: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = bytes[offset++]!
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return [value, offset]
    shift += 7
  }
}

/**
 * Overwrites a table's index block, in place and with the same size, by an uncompressed block
 * whose only key is 1 byte long: LevelDB does not verify block checksums, and asserts (aborting
 * the process) when it compares a key shorter than its 8-byte internal header.
 */
async function replaceIndexBlock(file: string): Promise<void> {
  const handle = await openFile(file, 'r+')
  try {
    const { size } = await handle.stat()
    const footer = new Uint8Array(48)
    await handle.read(footer, 0, 48, size - 48)
    let offset = 0
    for (let skip = 0; skip < 2; skip++) offset = varint(footer, offset)[1]
    const [indexOffset, next] = varint(footer, offset)
    const [indexSize] = varint(footer, next)
    // [shared 0][unshared 1][value length][key 1 byte][value][restart 0][1 restart]
    for (const lengthBytes of [1, 2, 3]) {
      const valueLength = indexSize - 3 - lengthBytes - 8
      const encoded: number[] = []
      for (let rest = valueLength; ; rest = Math.floor(rest / 128)) {
        if (rest < 128) {
          encoded.push(rest)
          break
        }
        encoded.push((rest % 128) | 0x80)
      }
      if (encoded.length !== lengthBytes) continue
      const block = new Uint8Array(indexSize + 1)
      block.set([0, 1, ...encoded, 0x61], 0)
      new DataView(block.buffer).setUint32(indexSize - 4, 1, true)
      block[indexSize] = 0 // the trailer's type: not compressed
      await handle.write(block, 0, block.byteLength, indexOffset)
      return
    }
    throw new Error(`no encoding fits an index block of ${indexSize} bytes`)
  } finally {
    await handle.close()
  }
}

describe('a LevelDB write-ahead log cut short', () => {
  it('is refused with StorageCorruptError instead of opening a rolled-back store', async () => {
    const written = await writeHistory(60)
    const files = await levelFiles()
    expect(files.some((name) => name.endsWith('.ldb'))).toBe(true)
    const log = join(directory.path, 'level', files.filter((name) => name.endsWith('.log')).at(-1)!)
    const { size } = await stat(log)
    expect(size).toBeGreaterThan(1000)
    await truncate(log, Math.floor(size / 2))

    const error = await expectRefusedUntouched()
    expect(error.message).toMatch(/lost acknowledged writes/)
    expect(error.message).toContain(
      `term 60, vote node-0, commit ${written.hardState!.commit}, log ${written.first} to ${written.last}`,
    )
    // The evidence stays: the next open finds the same.
    expect((await expectRefusedUntouched()).message).toBe(error.message)
  })

  it('is refused when a whole write-ahead log is lost', async () => {
    await writeHistory(60)
    const log = (await levelFiles()).filter((name) => name.endsWith('.log')).at(-1)!
    await writeFile(join(directory.path, 'level', log), new Uint8Array())
    expect((await expectRefusedUntouched()).message).toMatch(/lost acknowledged writes/)
  })
})

describe('damage LevelDB would repair', () => {
  it('refuses a write-ahead log record LevelDB would skip, and leaves every byte', async () => {
    const { logStore } = await open()
    for (let index = 1; index <= 50; index++) await logStore.append(entries(index, index, 1))
    await close()
    const log = (await levelFiles()).find((name) => name.endsWith('.log'))!
    const { size } = await stat(join(directory.path, 'level', log))
    await flipByte(join(directory.path, 'level', log), Math.floor(size / 2))
    const error = await expectRefusedUntouched()
    expect(error.message).toMatch(/damaged records .* while recovering.*checksum mismatch/)
    expect((await expectRefusedUntouched()).message).toBe(error.message)
  })

  it('refuses a table cut short with StorageCorruptError, not a raw IO error', async () => {
    await writeHistory(60)
    const tables = (await levelFiles()).filter((name) => name.endsWith('.ldb'))
    expect(tables.length).toBeGreaterThan(0)
    for (const table of tables) {
      const path = join(directory.path, 'level', table)
      await truncate(path, Math.floor((await stat(path)).size / 2))
    }
    const error = await expectRefusedUntouched()
    expect(error.message).toMatch(/damaged|cut short|unreadable/)
  })

  it('refuses a table LevelDB aborts the process on (an index key shorter than 8 bytes)', async () => {
    await writeHistory(60)
    for (const table of (await levelFiles()).filter((name) => name.endsWith('.ldb'))) {
      await replaceIndexBlock(join(directory.path, 'level', table))
    }
    const error = await expectRefusedUntouched()
    expect(error.message).toMatch(/LevelDB crashed \(SIGABRT.*internal_key.size\(\) >= 8/)
  })

  it('never returns other contents than written when a byte of a table is flipped', async () => {
    const written = await writeHistory(60)
    const tables = (await levelFiles()).filter((name) => name.endsWith('.ldb'))
    const scratch = await temporaryDirectory()
    const pristine = directory.path
    const trial = join(scratch.path, 'trial')
    let refused = 0
    let positions = 0
    for (const table of tables) {
      const { size } = await stat(join(pristine, 'level', table))
      // Spread over the whole table: data blocks, index block, footer.
      for (let step = 0; step < 6; step++) {
        const position = Math.min(size - 1, Math.floor((size * step) / 5))
        await rm(trial, { recursive: true, force: true })
        await cp(pristine, trial, { recursive: true })
        await flipByte(join(trial, 'level', table), position)
        positions++
        const before = await fingerprint(trial)
        // Damage to live data is found on open (every entry is verified then), not on a read.
        const outcome = await openAt(trial).then(
          async (opened) => {
            try {
              return await contents(opened)
            } finally {
              await opened.close()
            }
          },
          (error: Error) => error,
        )
        if (outcome instanceof Error) {
          expect(outcome.name, `${table} at ${position}: ${outcome.message}`).toBe(
            'StorageCorruptError',
          )
          expect(await fingerprint(trial)).toEqual(before)
          refused++
        } else {
          // A flip LevelDB never reads (a block's own checksum, padding) may change nothing.
          expect(outcome, `${table} at ${position}`).toEqual(written)
        }
      }
    }
    await scratch.remove()
    expect(positions).toBeGreaterThan(11)
    // Tables also hold entries and hard states that later writes replaced: flips there are
    // harmless. Some flips must have hit live data, or the test proves nothing.
    expect(refused).toBeGreaterThan(0)
  }, 60_000)
})

describe('the durable record', () => {
  const recordPath = () => join(directory.path, durableRecordName)

  /** What a crash in the middle of writing the newest slot leaves. */
  async function tearNewestSlot(): Promise<void> {
    const reading = await readDurableRecord(recordPath())
    if (reading.kind !== 'valid') throw new Error(`the record is ${reading.kind}`)
    const bytes = Buffer.from(await readFile(recordPath()))
    const start = (reading.summary.sequence % 2) * slotBytes
    bytes.fill(0xee, start + 30, start + slotBytes)
    await writeFile(recordPath(), bytes)
  }

  it('keeps a last batch that was synced but stopped before its record (never acknowledged)', async () => {
    const { logStore, stableStore } = await open()
    await stableStore.save({ term: 1, vote: 'node-a', commit: 0 })
    await logStore.append(entries(1, 5, 1))
    await close()
    const before = await readFile(recordPath())
    await open()
    await storage!.logStore.append(entries(6, 8, 1))
    await close()
    // The crash: LevelDB has the batch, the record does not.
    await writeFile(recordPath(), before)
    const reopened = await open()
    expect(await reopened.logStore.lastIndex()).toBe(8)
    // The record caught up on open, so the next batch's record may be torn by a crash too.
    await reopened.stableStore.save({ term: 2, vote: null, commit: 8 })
    await close()
    await tearNewestSlot()
    const again = await open()
    expect(await again.stableStore.load()).toEqual({ term: 2, vote: null, commit: 8 })
    await again.logStore.append(entries(9, 9, 2))
    await close()
    expect(await (await open()).logStore.lastIndex()).toBe(9)
  })

  it('opens when the newest record slot was torn by a crash while it was written', async () => {
    const { logStore } = await open()
    await logStore.append(entries(1, 3, 1))
    await logStore.append(entries(4, 4, 1))
    await close()
    await tearNewestSlot()
    expect(await (await open()).logStore.lastIndex()).toBe(4)
  })

  it('refuses a store whose LevelDB is older than its record (the record ran ahead)', async () => {
    const { logStore, stableStore } = await open()
    await stableStore.save({ term: 3, vote: 'node-b', commit: 0 })
    await logStore.append(entries(1, 5, 3))
    await close()
    const older = join(directory.path, 'older-level')
    await cp(join(directory.path, 'level'), older, { recursive: true })
    await open()
    await storage!.stableStore.save({ term: 4, vote: 'node-c', commit: 5 })
    await close()
    await rm(join(directory.path, 'level'), { recursive: true })
    await cp(older, join(directory.path, 'level'), { recursive: true })
    await rm(older, { recursive: true })
    const error = await expectRefusedUntouched()
    expect(error.message).toMatch(/lost acknowledged writes.*term 3.*term 4, vote node-c/)
  })

  it('refuses a store whose record is missing or damaged in both slots', async () => {
    const { logStore } = await open()
    await logStore.append(entries(1, 3, 1))
    await close()
    const bytes = await readFile(recordPath())
    const damaged = Buffer.from(bytes)
    damaged[20]! ^= 1
    damaged[4096 + 20]! ^= 1
    await writeFile(recordPath(), damaged)
    expect((await expectRefusedUntouched()).message).toMatch(/durable record .* is damaged/)
    await rm(recordPath())
    expect((await expectRefusedUntouched()).message).toMatch(/has no durable record/)
  })

  it('refuses a record that is older than LevelDB by more than one batch', async () => {
    const { logStore } = await open()
    await logStore.append(entries(1, 1, 1))
    await close()
    const before = await readFile(recordPath())
    await open()
    await storage!.logStore.append(entries(2, 2, 1))
    await storage!.logStore.append(entries(3, 3, 1))
    await close()
    await writeFile(recordPath(), before)
    expect((await expectRefusedUntouched()).message).toMatch(/record .* older than its LevelDB/)
  })

  it('opens as new after a crash between creating the record and the LevelDB folder', async () => {
    await open()
    await close()
    await rm(join(directory.path, 'level'), { recursive: true })
    const { logStore } = await open()
    await logStore.append(entries(1, 1, 1))
    await close()
    expect(await (await open()).logStore.lastIndex()).toBe(1)
  })

  it('opens as new after a crash between LevelDB creating its folder and the first batch', async () => {
    await open()
    await close()
    await rm(join(directory.path, 'level'), { recursive: true })
    const empty = new Level(join(directory.path, 'level'))
    await empty.open()
    await empty.close()
    const { logStore } = await open()
    await logStore.append(entries(1, 2, 1))
    await close()
    expect(await (await open()).logStore.lastIndex()).toBe(2)
  })

  it('refuses a missing LevelDB folder when the record says it held data', async () => {
    await writeHistory(3)
    await rm(join(directory.path, 'level'), { recursive: true })
    const before = await fingerprint()
    const error = await rejection(open())
    expect(error.name).toBe('StorageCorruptError')
    expect(error.message).toMatch(/is empty or missing, but its durable record/)
    expect(await fingerprint()).toEqual(before)
  })
})
