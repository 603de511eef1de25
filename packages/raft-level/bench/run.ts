/**
 * Synced appends of 100-byte entries, for 1 writer and for 64 concurrent writers (group
 * commit), next to the raw fsync/fdatasync rate of the same disk measured in the same run.
 *
 *   pnpm --filter @pinraft/raft-level bench [--rounds 5 --slice 0.6 --directory /path/on/the/disk]
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Entry } from '@pinraft/raft-core'
import { openRaftStorage, type RaftStorage } from '../src/index.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    slice: { type: 'string', default: '0.6' },
    directory: { type: 'string', default: tmpdir() },
  },
})
// The disk is shared and its sync rate drifts by a factor of several within seconds, so every
// measurement runs in short slices, interleaved round by round, and the rates are totals over
// all rounds: each ratio compares numbers taken under the same conditions.
const rounds = Number(values.rounds)
const slice = Number(values.slice) * 1000
const root = await mkdtemp(join(values.directory, 'raft-level-bench-'))
const payload = new Uint8Array(100).fill(0x61)

interface Tally {
  count: number
  milliseconds: number
}

const rate = (tally: Tally) => (tally.count / tally.milliseconds) * 1000

function rawSync(sync: (fd: number) => void, tally: Tally): void {
  const fd = openSync(join(root, `raw-${sync.name}`), 'a')
  const started = performance.now()
  const end = started + slice
  while (performance.now() < end) {
    writeSync(fd, payload)
    sync(fd)
    tally.count++
  }
  tally.milliseconds += performance.now() - started
  closeSync(fd)
}

async function appends(storage: RaftStorage, writers: number, tally: Tally): Promise<void> {
  let next = await storage.logStore.lastIndex()
  const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: payload })
  const started = performance.now()
  const end = started + slice
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < end) {
        // The index is taken and the call made in the same tick: calls apply in call order.
        await storage.logStore.append([entry(++next)])
        tally.count++
      }
    }),
  )
  tally.milliseconds += performance.now() - started
  if ((await storage.logStore.lastIndex()) !== next) throw new Error('appends were lost')
}

const fsyncTally: Tally = { count: 0, milliseconds: 0 }
const fdatasyncTally: Tally = { count: 0, milliseconds: 0 }
const oneTally: Tally = { count: 0, milliseconds: 0 }
const manyTally: Tally = { count: 0, milliseconds: 0 }
const one = await openRaftStorage({ directory: join(root, 'one-writer') })
const many = await openRaftStorage({ directory: join(root, 'sixty-four-writers') })
const perRound: string[] = []
for (let round = 0; round < rounds; round++) {
  const before = [fdatasyncTally, oneTally, manyTally].map(({ count, milliseconds }) => ({
    count,
    milliseconds,
  }))
  rawSync(fsyncSync, fsyncTally)
  rawSync(fdatasyncSync, fdatasyncTally)
  await appends(one, 1, oneTally)
  await appends(many, 64, manyTally)
  const [raw, single, multiple] = [fdatasyncTally, oneTally, manyTally].map((tally, i) =>
    Math.round(
      ((tally.count - before[i]!.count) / (tally.milliseconds - before[i]!.milliseconds)) * 1000,
    ),
  )
  perRound.push(`fdatasync ${raw}/s, 1 writer ${single}/s, 64 writers ${multiple}/s`)
}
await one.close()
await many.close()

// Opening checks every stored entry's CRC: time a reopen of a log of `openEntries` entries.
const openEntries = 100_000
const opened = await openRaftStorage({ directory: join(root, 'reopened') })
for (let first = 1; first <= openEntries; first += 1000) {
  await opened.logStore.append(
    Array.from({ length: 1000 }, (_, i) => ({
      index: first + i,
      term: 1,
      type: 'normal' as const,
      data: payload,
    })),
  )
}
await opened.close()
const openStarted = performance.now()
const reopened = await openRaftStorage({ directory: join(root, 'reopened') })
const openMilliseconds = performance.now() - openStarted
if ((await reopened.logStore.lastIndex()) !== openEntries) throw new Error('entries were lost')
await reopened.close()
await rm(root, { recursive: true, force: true })

const limit = Math.max(rate(fsyncTally), rate(fdatasyncTally))
const format = (value: number) => Math.round(value).toLocaleString('en-US')
const ratio = (value: number) => `${((value / limit) * 100).toFixed(0)}%`
console.log(
  `raft-level bench: ${rounds} rounds of ${slice / 1000} s slices, ${cpus().length} cores, in ${values.directory}`,
)
console.log('')
console.log('| measurement | per second | vs raw sync limit | target |')
console.log('| --- | ---: | ---: | --- |')
console.log(
  `| raw write(100 B) + fsync | ${format(rate(fsyncTally))} | ${ratio(rate(fsyncTally))} | |`,
)
console.log(
  `| raw write(100 B) + fdatasync (what LevelDB calls) | ${format(rate(fdatasyncTally))} | ${ratio(rate(fdatasyncTally))} | |`,
)
console.log(
  `| append, 1 writer (entries) | ${format(rate(oneTally))} | ${ratio(rate(oneTally))} | >= 60% of raw |`,
)
console.log(
  `| append, 64 writers (entries) | ${format(rate(manyTally))} | ${ratio(rate(manyTally))} | >= 100,000/s |`,
)
console.log(
  `| open a log of ${format(openEntries)} entries (CRC of each checked) | ${format(openMilliseconds)} ms | | |`,
)
console.log('')
for (const [i, line] of perRound.entries()) console.log(`round ${i + 1}: ${line}`)
