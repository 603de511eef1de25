/**
 * Runs @coaty/consensus.raft's bench (`../shared/bench/coaty/bench.mjs`, the peer raft-core is
 * measured against: the only TypeScript port of etcd-io/raft on npm, driven through its RawNode)
 * in a child process with this process's Node, so that both figures come from one run.
 *
 * coaty is not a devDependency of this package: it pulls in 373 packages (MQTT broker, mDNS,
 * sqlite3 with a native build) that have nothing to do with raft-core. The bench folder is found
 * at `$COATY_BENCH_DIR`, else `../shared/bench/coaty` beside the checkout (or beside the folder
 * holding a worktree); it must have been installed (`npm ci` there, or in a copy).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface CoatyFigures {
  /** Median entries/s, one proposal at a time. */
  readonly sequential: number
  /** Median entries/s, `window` proposals in flight. */
  readonly pipelined: number
  readonly folder: string
}

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

function coatyFolder(): string | { missing: string } {
  const candidates = [
    process.env.COATY_BENCH_DIR,
    join(repositoryRoot, '../shared/bench/coaty'),
    join(repositoryRoot, '../../shared/bench/coaty'),
  ].filter((candidate): candidate is string => candidate !== undefined && candidate !== '')
  for (const folder of candidates) {
    if (!existsSync(join(folder, 'bench.mjs'))) continue
    if (existsSync(join(folder, 'node_modules/@coaty/consensus.raft'))) return folder
    return {
      missing: `${folder} is not installed: run \`npm ci\` there (or copy it to a scratch folder, \`npm ci\` there, then set COATY_BENCH_DIR to it)`,
    }
  }
  return {
    missing: `no coaty bench found (looked in ${candidates.join(', ')}); set COATY_BENCH_DIR to a folder holding bench.mjs and its installed node_modules`,
  }
}

/** Runs coaty's bench; resolves with its medians, or with why it could not run. */
export async function runCoatyBench(options: {
  repetitions: number
  sequentialEntries: number
  pipelinedEntries: number
  window: number
  signal?: AbortSignal
}): Promise<CoatyFigures | { missing: string }> {
  const folder = coatyFolder()
  if (typeof folder !== 'string') return folder
  const args = [
    'bench.mjs',
    String(options.repetitions),
    String(options.sequentialEntries),
    String(options.pipelinedEntries),
    String(options.window),
  ]
  const child = spawn(process.execPath, args, {
    cwd: folder,
    stdio: ['ignore', 'pipe', 'inherit'],
    signal: options.signal ?? AbortSignal.timeout(600_000),
  })
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    output += chunk
  })
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail)
    child.once('close', done)
  })
  const last = output.trim().split('\n').at(-1) ?? ''
  if (code !== 0 || !last.startsWith('{')) {
    return { missing: `coaty's bench in ${folder} exited with ${code}: ${output.slice(-500)}` }
  }
  const figures = JSON.parse(last) as {
    sequential: { median: number }
    pipelined: { median: number }
  }
  return { sequential: figures.sequential.median, pipelined: figures.pipelined.median, folder }
}
