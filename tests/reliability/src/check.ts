import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { InvalidArgumentError } from './errors.ts'
import { type CompletedOperation, validateHistory } from './history.ts'
import { checkLinearizability, type LocalReads } from './linearizability.ts'

/** Reads a run's `history.jsonl` (one call a line) and checks its shape. */
export async function readHistory(path: string): Promise<CompletedOperation[]> {
  const text = await readFile(path, 'utf8')
  const operations = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as CompletedOperation
      } catch (error) {
        throw new InvalidArgumentError(
          `${path}:${index + 1} is not JSON (${(error as Error).message}): give the history.jsonl of a run`,
        )
      }
    })
  validateHistory(operations)
  return operations
}

/**
 * The history as it would be had every read been local: for a run against a daemon that ignores
 * `?consistent=true`, whose consistent reads were local reads in fact.
 */
export function asLocalReads(operations: readonly CompletedOperation[]): CompletedOperation[] {
  return operations.map((operation) =>
    operation.kind === 'read' ? { ...operation, consistency: 'local' } : operation,
  )
}

/** One line per verdict, as the run reports them. */
export function describeVerdicts(operations: readonly CompletedOperation[]): string[] {
  const checks: [LocalReads, string][] = [
    ['ignored', 'writes and consistent reads linearizable (headline)'],
    ['monotonic', 'local reads never back in time on a peer'],
    ['linearizable', 'local reads as if linearizable (informational)'],
  ]
  return checks.map(([localReads, label]) => {
    const result = checkLinearizability(operations, { localReads })
    const violations = result.cids.filter((entry) => entry.verdict === 'violation')
    const shown = violations
      .slice(0, 5)
      .map((entry) => entry.cid)
      .join(', ')
    return `${label}: ${result.verdict} (${violations.length} of ${result.cids.length} CIDs in violation${shown === '' ? '' : `: ${shown}${violations.length > 5 ? ', ...' : ''}`})`
  })
}

// `pnpm reliability:check <history.jsonl> [--all-reads-local]`: checks a run's history again,
// e.g. after a change to the checker. Exit 0 when the headline and local-read verdicts hold, 1
// when not, 2 on bad input.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: { 'all-reads-local': { type: 'boolean', default: false } },
    })
    const path = positionals[0]
    if (path === undefined || positionals.length > 1)
      throw new InvalidArgumentError(
        'give the path of one history.jsonl (written into every run report folder), and --all-reads-local to count every read as local',
      )
    const read = await readHistory(path)
    const operations = values['all-reads-local'] ? asLocalReads(read) : read
    const lines = describeVerdicts(operations)
    process.stdout.write(`${operations.length} calls\n${lines.join('\n')}\n`)
    process.exitCode = lines.slice(0, 2).every((line) => line.includes(': linearizable (')) ? 0 : 1
  } catch (error) {
    process.stderr.write(`${(error as Error).name}: ${(error as Error).message}\n`)
    process.exitCode = 2
  }
}
