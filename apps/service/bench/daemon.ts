/**
 * The daemon benchmark: what an operator's HTTP clients see. Three `pinraft daemon` processes on
 * 127.0.0.1 with their default configuration (embedded IPFS node included; only the addresses
 * are set), and a closed-loop load generator in a process of its own (`bench/http-load.ts`:
 * keep-alive, fresh precomputed CIDs) posting `POST /pins/{cid}` with 1, 64 and 256 clients to
 * the leader, then to a follower. Then, in the same run, the same cluster shape measured below
 * HTTP (`bench/logpin-load.ts`: `consensus.logPin` on three daemons started in one process), so
 * the HTTP path can be read as a share of the `logPin` path.
 *
 * `pnpm --filter @pinraft/service exec node --conditions=@pinraft/source bench/daemon.ts`
 * `--quick`: 1 s per point instead of 3. `--profile <folder>`: the daemons write CPU profiles
 * there (`--cpu-prof`). `--http-only` / `--logpin-only`: one half. `--floor-only`: only the
 * generator against a bare `node:http` server (`bench/http-floor.ts`), the floor under the HTTP
 * points.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type BenchPeer,
  clusterAddress,
  createPeers,
  leaderOf,
  startPeer,
  stopPeer,
  waitReady,
} from './support/daemon-processes.ts'
import { processCpu } from './support/process-usage.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    profile: { type: 'string' },
    'http-only': { type: 'boolean', default: false },
    'logpin-only': { type: 'boolean', default: false },
    /** Only the floor: the generator against a bare node:http server. */
    'floor-only': { type: 'boolean', default: false },
    /** Only these HTTP points, such as `leader:64,follower:1`. */
    points: { type: 'string' },
  },
})
const wantedPoints = values.points === undefined ? undefined : new Set(values.points.split(','))
const seconds = values.seconds !== undefined ? Number(values.seconds) : values.quick ? 1 : 3
const clientCounts = [1, 64, 256]

export interface LoadResult {
  pins: number
  seconds: number
  rate: number
  p50: number
  p99: number
  errors: number
  firstError: string
  exhausted: boolean
  /** CPU the load's own process used during the load. */
  cpuMicroseconds: number
}

/**
 * Runs a bench script in a child process under this Node and parses its JSON lines. `onLine` is
 * called with the child's pid for each line before it is parsed (to read CPU counters then).
 */
async function runScript(
  script: string,
  args: string[],
  onLine?: () => Promise<void>,
): Promise<LoadResult[]> {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const child = spawn(process.execPath, ['--conditions=@pinraft/source', path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  let pending = Promise.resolve()
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (onLine !== undefined && chunk.includes(10)) pending = pending.then(onLine)
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  await pending
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}`)
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"pins":'))
    .map((line) => JSON.parse(line) as LoadResult)
}

function describe(label: string, result: LoadResult): string {
  const errors = result.errors === 0 ? '' : `, ${result.errors} errors (${result.firstError})`
  return `${label}: ${Math.round(result.rate).toLocaleString('en-US')} pins/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms (${result.pins} pins in ${result.seconds.toFixed(1)} s${errors}${result.exhausted ? ', CIDs exhausted' : ''})`
}

async function httpPoints(): Promise<Map<string, LoadResult>> {
  const root = await mkdtemp(join(tmpdir(), 'pinraft-daemon-bench-'))
  const profile =
    values.profile === undefined
      ? {}
      : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values.profile}` }
  const peers = await createPeers(root, 3, profile)
  const results = new Map<string, LoadResult>()
  try {
    const [first, ...others] = peers as [BenchPeer, ...BenchPeer[]]
    startPeer(first)
    await waitReady(first, 60_000)
    for (const peer of others) {
      startPeer(peer, ['--bootstrap', clusterAddress(first)])
      await waitReady(peer, 60_000)
    }
    const leader = await leaderOf(peers)
    const follower = peers.find((peer) => peer !== leader) as BenchPeer
    let round = 0
    // JIT and connection warm-up, not recorded.
    await runScript('./http-load.ts', [
      ...['--url', leader.apiUrl, '--clients', '16', '--seconds', '1', '--label', 'warm-up'],
    ])
    for (const [where, peer] of [
      ['leader', leader],
      ['follower', follower],
    ] as const) {
      for (const clients of clientCounts) {
        if (wantedPoints !== undefined && !wantedPoints.has(`${where}:${clients}`)) continue
        const linesBefore = peers.map((each) => each.logLines)
        // CPU used by each process during the load: read when the generator starts its clock
        // (it prints `{"started":…}`) and when it prints its result.
        const cpu: number[][] = []
        const sample = async () => {
          cpu.push(await Promise.all(peers.map((each) => processCpu(each.child!.pid!))))
        }
        const [result] = await runScript(
          './http-load.ts',
          [
            ...['--url', peer.apiUrl, '--clients', String(clients), '--seconds', String(seconds)],
            ...['--label', `${process.pid} ${round++}`],
          ],
          sample,
        )
        if (result === undefined) throw new Error('the load generator printed no result')
        results.set(`${where} ${clients}`, result)
        const logged = peers.map((each, index) => each.logLines - (linesBefore[index] ?? 0))
        const [before, after] = cpu as [number[], number[]]
        const perPin = [
          ...after.map((value, index) => (1000 * (value - (before[index] ?? 0))) / result.pins),
          result.cpuMicroseconds / result.pins,
        ].map((value) => value.toFixed(0))
        const roles = [...peers.map((each) => (each === leader ? 'leader' : 'follower')), 'client']
        console.log(
          `${describe(`POST /pins/{cid} on the ${where}, ${clients} client(s)`, result)}; CPU µs per pin: ${perPin.map((value, index) => `${roles[index]} ${value}`).join(', ')}; log lines written meanwhile: ${logged.join(', ')}`,
        )
      }
    }
  } finally {
    for (const peer of [...peers].reverse()) await stopPeer(peer)
    await rm(root, { recursive: true, force: true })
  }
  return results
}

/**
 * The same generator against `bench/http-floor.ts` (a bare `node:http` server answering at once):
 * the rate HTTP and loopback TCP alone allow here, with the server's CPU per request.
 */
async function floorPoints(): Promise<void> {
  const path = fileURLToPath(new URL('./http-floor.ts', import.meta.url))
  const server = spawn(process.execPath, ['--conditions=@pinraft/source', path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`http-floor.ts exited with ${code}`)))
      server.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).port))
    })
    const url = `http://127.0.0.1:${port}`
    await runScript('./http-load.ts', ['--url', url, '--clients', '16', '--seconds', '1'])
    for (const clients of [1, 64]) {
      const cpu: number[] = []
      const [result] = await runScript(
        './http-load.ts',
        ['--url', url, '--clients', String(clients), '--seconds', String(seconds)],
        async () => {
          cpu.push(await processCpu(server.pid as number))
        },
      )
      if (result === undefined) throw new Error('the load generator printed no result')
      const [before, after] = cpu as [number, number]
      console.log(
        `${describe(`floor: the same generator against a bare node:http server, ${clients} client(s)`, result).replace(' pins/s', ' requests/s').replace(' pins in', ' requests in')}; CPU µs per request: server ${((1000 * (after - before)) / result.pins).toFixed(0)}, client ${(result.cpuMicroseconds / result.pins).toFixed(0)}`,
      )
    }
  } finally {
    server.kill('SIGTERM')
  }
}

async function logPinPoints(): Promise<Map<string, LoadResult>> {
  const results = new Map<string, LoadResult>()
  const lines = await runScript('./logpin-load.ts', [
    ...['--seconds', String(seconds), '--clients', clientCounts.join(',')],
  ])
  let index = 0
  for (const where of ['leader', 'follower']) {
    for (const clients of clientCounts) {
      const result = lines[index++]
      if (result === undefined) throw new Error('logpin-load printed too few results')
      results.set(`${where} ${clients}`, result)
      console.log(
        `${describe(`consensus.logPin on the ${where}, ${clients} client(s)`, result)}; CPU µs per pin, 3 daemons in one process: ${(result.cpuMicroseconds / result.pins).toFixed(0)}`,
      )
    }
  }
  return results
}

console.log(
  `daemon benchmark: 3 pinraft daemons on 127.0.0.1, default configuration, ${seconds} s per point; load average ${(
    await import('node:os')
  )
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
)
const only = values['floor-only'] || values['logpin-only']
const http = only ? new Map<string, LoadResult>() : await httpPoints()
if (!values['logpin-only'] && wantedPoints === undefined) await floorPoints()
const logPin =
  values['http-only'] || values['floor-only'] ? new Map<string, LoadResult>() : await logPinPoints()
if (http.size > 0 && logPin.size > 0) {
  for (const [key, result] of http) {
    const below = logPin.get(key)
    if (below === undefined) continue
    console.log(
      `HTTP vs logPin, ${key} client(s): ${((100 * result.rate) / below.rate).toFixed(0)} % of the rate, p50 ${result.p50.toFixed(2)} vs ${below.p50.toFixed(2)} ms`,
    )
  }
}
const leader64 = http.get('leader 64')
const follower64 = http.get('follower 64')
if (leader64 !== undefined && follower64 !== undefined) {
  console.log(
    `follower vs leader, 64 clients over HTTP: ${((100 * follower64.rate) / leader64.rate).toFixed(0)} % of the rate`,
  )
}
