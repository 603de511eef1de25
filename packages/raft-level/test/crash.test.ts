import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { silentLogger } from '@pinraft/raft-core'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { openRaftStorage } from '../src/index.ts'
import {
  apply,
  copyModel,
  emptyModel,
  entryData,
  type LogModel,
  type LogOperation,
  sameModel,
  seededRandom,
} from './fixtures/crash-log.ts'
import { temporaryDirectory } from './temporary-directory.ts'

const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))
// Fixed so that a failure replays; override to explore other schedules.
const seed = Number(process.env.RAFT_LEVEL_CRASH_SEED ?? 424)
const iterations = 10

let directory: Awaited<ReturnType<typeof temporaryDirectory>>

beforeEach(async () => {
  directory = await temporaryDirectory()
})

afterEach(async () => {
  await directory.remove()
})

interface ChildRun {
  readonly issued: LogOperation[]
  /** Highest sequence number acknowledged, or -1. */
  readonly acknowledged: number
  readonly output: string
}

/** Runs the writer until `delay` ms after it is ready, then kills it with SIGKILL. */
function runAndKill(childSeed: number, delay: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@pinraft/source', '--no-warnings', writer, directory.path, String(childSeed)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    let errors = ''
    let timer: NodeJS.Timeout | undefined
    // Bounded whatever happens: a child that never gets ready is killed after 20 s.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text
      if (timer === undefined && output.includes('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), delay)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      errors += text
    })
    child.on('error', reject)
    // 'close', not 'exit': only then has all of the child's output been read.
    child.on('close', (code, signal) => {
      clearTimeout(watchdog)
      clearTimeout(timer)
      if (signal !== 'SIGKILL' || timer === undefined) {
        reject(
          new Error(
            `the writer ended with ${signal ?? code} before it was killed:\n${output}\n${errors}`,
          ),
        )
        return
      }
      const issued: LogOperation[] = []
      let acknowledged = -1
      // The last line may be cut short by the kill; only whole lines count.
      for (const line of output.split('\n').slice(0, -1)) {
        const [word, seq, json] = line.split(' ', 3) as [string, string, string | undefined]
        if (word === 'issue') {
          expect(Number(seq)).toBe(issued.length)
          issued.push(JSON.parse(line.slice(`issue ${seq} `.length)) as LogOperation)
          void json
        } else if (word === 'ack') {
          acknowledged = Math.max(acknowledged, Number(seq))
        } else if (word === 'error') {
          reject(new Error(`the writer failed: ${line}`))
          return
        }
      }
      resolve({ issued, acknowledged, output })
    })
  })
}

it('keeps every acknowledged append and truncation across SIGKILL, and nothing else', async () => {
  const random = seededRandom(seed)
  let model: LogModel = emptyModel()
  let acknowledgedTotal = 0
  let killsWithCallsInFlight = 0
  for (let iteration = 0; iteration < iterations; iteration++) {
    const delay = 10 + Math.floor(random() * 150)
    const run = await runAndKill(Math.floor(random() * 2 ** 31), delay)
    const storage = await openRaftStorage({
      directory: directory.path,
      logger: silentLogger,
    }).catch((error: Error) => {
      throw new Error(`iteration ${iteration} (seed ${seed}): reopen failed: ${error.message}`, {
        cause: error,
      })
    })
    try {
      const first = await storage.logStore.firstIndex()
      const last = await storage.logStore.lastIndex()
      const entries = last === 0 ? [] : await storage.logStore.entries(first, last + 1)
      const damaged = entries.filter(
        (entry) => !Buffer.from(entry.data).equals(entryData(entry.index, entry.term)),
      )
      expect(damaged.map((entry) => entry.index)).toEqual([])
      const actual: LogModel = {
        first: last === 0 ? 0 : first,
        terms: entries.map((entry) => entry.term),
      }
      // Calls apply in order and each is atomic, so the log must be the result of some prefix
      // of the issued calls that includes every acknowledged one.
      const candidate = copyModel(model)
      for (let k = 0; k <= run.acknowledged; k++) apply(candidate, run.issued[k]!)
      let matched = sameModel(candidate, actual)
      for (let k = run.acknowledged + 1; !matched && k < run.issued.length; k++) {
        apply(candidate, run.issued[k]!)
        matched = sameModel(candidate, actual)
      }
      expect(
        matched,
        `iteration ${iteration} (seed ${seed}): log after reopen matches no allowed prefix: ${JSON.stringify({ before: model, after: actual, acknowledged: run.acknowledged, issued: run.issued })}`,
      ).toBe(true)
      acknowledgedTotal += run.acknowledged + 1
      if (run.issued.length > run.acknowledged + 1) killsWithCallsInFlight++
      model = actual
    } finally {
      await storage.close()
    }
  }
  // The kills must land while the writer is busy, or the test proves nothing.
  expect(acknowledgedTotal).toBeGreaterThan(iterations * 5)
  expect(killsWithCallsInFlight).toBeGreaterThan(iterations / 2)
}, 60_000)
