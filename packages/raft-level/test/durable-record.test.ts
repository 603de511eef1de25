import { readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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

/** The open flags of this process's descriptor for `path` (Linux's /proc/self/fdinfo). */
async function openFlags(path: string): Promise<number> {
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target !== path) continue
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8')
    return Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(info)?.[1] ?? 'NaN', 8)
  }
  throw new Error(`${path} is not open in this process`)
}

const summary = (sequence: number) => ({
  sequence,
  hardState: { term: 2, vote: 'a', commit: sequence },
  first: 1,
  last: sequence,
})

describe('the durable record', () => {
  // O_DSYNC on Linux (0o10000): each write returns once on the disk, so no fdatasync follows.
  it.runIf(process.platform === 'linux')(
    'is written through a descriptor opened with O_DSYNC, slot after slot',
    async () => {
      directory = await temporaryDirectory()
      const path = join(directory.path, 'durable-record')
      record = await DurableRecord.create(path, summary(1))
      expect((await openFlags(path)) & 0o10000).toBe(0o10000)
      await record.write(summary(2))
      await record.write(summary(3))
      const reading = await readDurableRecord(path)
      expect(reading).toEqual({ kind: 'valid', summary: summary(3) })
      expect((await readFile(path)).byteLength).toBe(2 * slotBytes)
    },
  )
})
