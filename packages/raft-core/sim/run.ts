import { simulate } from './simulation.ts'

/**
 * Runs the Raft simulation over many seeds:
 *   pnpm --filter @pinraft/raft-core sim --seeds 100000 [--start 1] [--ticks 400] [--nodes 5]
 *   pnpm --filter @pinraft/raft-core sim --seed 1234        (replays one seed)
 */
function argument(name: string): number | undefined {
  const position = process.argv.indexOf(`--${name}`)
  if (position < 0) return undefined
  const value = Number(process.argv[position + 1])
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} takes a non-negative integer, got ${process.argv[position + 1]}`)
    process.exit(2)
  }
  return value
}

const single = argument('seed')
const start = single ?? argument('start') ?? 1
const seeds = single !== undefined ? 1 : (argument('seeds') ?? 1000)
const ticks = argument('ticks')
const nodes = argument('nodes')
const began = performance.now()
let failures = 0
const totals = {
  elections: 0,
  committed: 0,
  crashes: 0,
  partitions: 0,
  membershipChanges: 0,
  snapshotsInstalled: 0,
}
for (let seed = start; seed < start + seeds; seed++) {
  try {
    const result = simulate({
      seed,
      ...(ticks !== undefined ? { ticks } : {}),
      nodes: nodes ?? 3 + (seed % 5),
      initialVoters: Math.min(nodes ?? 3 + (seed % 5), 3 + (seed % 3)),
    })
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += result[key]
  } catch (error) {
    failures++
    console.error(error instanceof Error ? error.message : error)
    if (failures >= 10) break
  }
  if ((seed - start + 1) % 1000 === 0) {
    console.log(
      `${seed - start + 1} seeds, ${failures} failed, ${((performance.now() - began) / 1000).toFixed(1)} s`,
    )
  }
}
console.log(
  `${seeds} seeds from ${start}: ${failures} failed; ${totals.elections} elections, ${totals.committed} entries committed, ${totals.crashes} crashes, ${totals.partitions} partitions, ${totals.membershipChanges} membership changes, ${totals.snapshotsInstalled} snapshots installed (${((performance.now() - began) / 1000).toFixed(1)} s)`,
)
process.exit(failures > 0 ? 1 : 0)
