import type { ScenarioName } from './scenarios.ts'
import { scenarioNames, simulateSeed } from './scenarios.ts'

/**
 * Runs the Raft simulation over many seeds, spread over every scenario:
 *   pnpm --filter @pinraft/raft-core sim --seeds 20000 [--start 1] [--ticks 400] [--scenario figure-8]
 *   pnpm --filter @pinraft/raft-core sim --seed 1234 [--scenario mixed]   (replays one seed)
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

function scenarioArgument(): ScenarioName | undefined {
  const position = process.argv.indexOf('--scenario')
  if (position < 0) return undefined
  const name = process.argv[position + 1]
  if (!scenarioNames.includes(name as ScenarioName)) {
    console.error(`--scenario takes one of ${scenarioNames.join(', ')}, got ${name}`)
    process.exit(2)
  }
  return name as ScenarioName
}

const single = argument('seed')
const start = single ?? argument('start') ?? 1
const seeds = single !== undefined ? 1 : (argument('seeds') ?? 1000)
const ticks = argument('ticks')
const scenario = scenarioArgument()
const began = performance.now()
let failures = 0
const totals = {
  elections: 0,
  committed: 0,
  crashes: 0,
  cutsEntriesOnly: 0,
  cutsHardStateOnly: 0,
  partitions: 0,
  membershipChanges: 0,
  snapshotsInstalled: 0,
  acknowledged: 0,
  reads: 0,
}
for (let seed = start; seed < start + seeds; seed++) {
  try {
    const result = simulateSeed(seed, {
      ...(ticks !== undefined ? { ticks } : {}),
      ...(scenario !== undefined ? { scenario } : {}),
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
const summary = Object.entries(totals)
  .map(([key, value]) => `${value} ${key}`)
  .join(', ')
console.log(
  `${seeds} seeds from ${start}: ${failures} failed; ${summary} (${((performance.now() - began) / 1000).toFixed(1)} s)`,
)
process.exit(failures > 0 ? 1 : 0)
