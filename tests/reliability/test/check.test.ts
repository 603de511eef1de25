import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { asLocalReads, describeVerdicts, readHistory } from '../src/check.ts'
import { localRead, op, read } from './support/operations.ts'

let folder: string | undefined
afterEach(async () => {
  if (folder !== undefined) await rm(folder, { recursive: true, force: true })
  folder = undefined
})

async function historyFile(lines: string[]): Promise<string> {
  folder = await mkdtemp(join(tmpdir(), 'pinraft-check-'))
  const path = join(folder, 'history.jsonl')
  await writeFile(path, `${lines.join('\n')}\n`)
  return path
}

describe('checking a written history again', () => {
  it('reads a history.jsonl and reports each verdict', async () => {
    const history = [
      op('pin', 'a', 0, 10),
      read('a', 20, 30, 'pinned'),
      localRead('a', 40, 50, 'unpinned', 'peer-3'),
    ]
    const operations = await readHistory(
      await historyFile(history.map((entry) => JSON.stringify(entry))),
    )
    expect(operations).toEqual(history)
    const lines = describeVerdicts(operations)
    expect(lines[0]).toMatch(/headline\): linearizable \(0 of 1 CIDs/)
    expect(lines[1]).toMatch(/never back in time on a peer: linearizable/)
    expect(lines[2]).toMatch(/informational\): violation \(1 of 1 CIDs in violation: a\)/)
  })

  it('judges the history as if every read had been local, for a daemon without consistent reads', () => {
    const history = [op('pin', 'a', 0, 10), read('a', 20, 30, 'unpinned', 'peer-2')]
    expect(describeVerdicts(history)[0]).toMatch(/headline\): violation/)
    const local = asLocalReads(history)
    expect(local[1]!.consistency).toBe('local')
    expect(describeVerdicts(local)[0]).toMatch(/headline\): linearizable/)
    expect(describeVerdicts(local)[1]).toMatch(/never back in time on a peer: linearizable/)
  })

  it('says which line is not JSON', async () => {
    const path = await historyFile([JSON.stringify(op('pin', 'a', 0, 10)), '{oops'])
    await expect(readHistory(path)).rejects.toThrow(/history\.jsonl:2 is not JSON/)
  })

  it('refuses a history whose shape cannot be checked', async () => {
    const path = await historyFile([JSON.stringify(op('read', 'a', 0, 10))])
    await expect(readHistory(path)).rejects.toMatchObject({ name: 'InvalidHistoryError' })
  })
})
