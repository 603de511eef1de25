import { constants } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DurableRecord, readDurableRecord, slotBytes } from '../src/durable-record.ts'
import { temporaryDirectory } from './temporary-directory.ts'

let directory: Awaited<ReturnType<typeof temporaryDirectory>> | undefined
let record: DurableRecord | undefined

afterEach(async () => {
  await record?.close()
  record = undefined
  await directory?.remove()
  directory = undefined
})

// The flags each file was opened with, as the record asked node:fs for them (the kernel's own
// view, /proc/self/fdinfo, is not there on every machine CI runs on).
const openedWith = vi.hoisted(() => new Map<string, unknown>())
vi.mock('node:fs/promises', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:fs/promises')>()
  return {
    ...original,
    open: (path: string, flags?: unknown, mode?: number) => {
      openedWith.set(String(path), flags)
      return original.open(path, flags as string, mode)
    },
  }
})

const summary = (sequence: number) => ({
  sequence,
  hardState: { term: 2, vote: 'a', commit: sequence },
  first: 1,
  last: sequence,
})

describe('the durable record', () => {
  // O_DSYNC: each write returns once on the disk, so no fdatasync follows.
  it.runIf(Boolean(constants.O_DSYNC))(
    'is written through a descriptor opened with O_DSYNC, slot after slot',
    async () => {
      directory = await temporaryDirectory()
      const path = join(directory.path, 'durable-record')
      record = await DurableRecord.create(path, summary(1))
      const flags = openedWith.get(path)
      expect(typeof flags).toBe('number')
      expect((flags as number) & constants.O_DSYNC).toBe(constants.O_DSYNC)
      await record.write(summary(2))
      await record.write(summary(3))
      const reading = await readDurableRecord(path)
      expect(reading).toEqual({ kind: 'valid', summary: summary(3) })
      expect((await readFile(path)).byteLength).toBe(2 * slotBytes)
    },
  )
})
