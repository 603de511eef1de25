/**
 * A million pins on one peer, through the commands and routes an operator uses:
 *
 * 1. writes a `state export` file of `--pins` pins (IPFS Cluster's JSON lines, fresh CIDs);
 * 2. `pinraft state import --force` on a stopped, initialized peer: time and peak RSS;
 * 3. `pinraft daemon` on that state: time to ready (`GET /health/ready` 204), RSS once ready;
 * 4. `GET /allocations` and `GET /pins?local=true`: time to the first byte and to the end, and
 *    how much the daemon's RSS grew while streaming (a reader at full speed over loopback);
 * 5. the daemon stopped (SIGTERM) and started again: restart to ready;
 * 6. a second peer joining it with `--bootstrap`: time to ready (it receives the snapshot).
 *
 * `pnpm --filter @pinraft/service exec node --conditions=@pinraft/source bench/million.ts`
 * (`--pins 100000` for a shorter run; `--skip-status` leaves out `GET /pins?local=true`;
 * `--profile <folder>`: CPU profiles of the daemons).
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pinToClusterJson, validatePin } from '@pinraft/state-pinset'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { Pool } from 'undici'
import {
  type BenchPeer,
  binPath,
  clusterAddress,
  createPeers,
  metric,
  startPeer,
  stopPeer,
  waitReady,
} from './support/daemon-processes.ts'
import { processCpu, processMemory, sampleMemory } from './support/process-usage.ts'

const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '1000000' },
    'skip-status': { type: 'boolean', default: false },
    /** The daemons write CPU profiles (`--cpu-prof`) to this folder. */
    profile: { type: 'string' },
  },
})
const count = Number(values.pins)
if (!Number.isInteger(count) || count < 1) throw new Error('--pins must be a whole number ≥ 1')
const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

/** The export file: one template line (the real encoder's output) with each pin's CID in it. */
async function writeExport(path: string): Promise<void> {
  const placeholder = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
  const template = pinToClusterJson(validatePin({ cid: placeholder, timestamp: Date.now() }))
  const [before, after] = template.split(placeholder) as [string, string]
  const file = createWriteStream(path)
  let batch = ''
  for (let index = 0; index < count; index++) {
    const digest = createHash('sha256').update(`million ${index}`).digest()
    batch += `${before}${CID.createV1(raw.code, createDigest(0x12, digest)).toString()}${after}\n`
    if (batch.length > 1 << 20) {
      if (!file.write(batch))
        await new Promise<void>((resolve) => file.once('drain', () => resolve()))
      batch = ''
    }
  }
  file.end(batch)
  await new Promise<void>((resolve, reject) =>
    file.once('finish', () => resolve()).once('error', reject),
  )
}

/** Runs `pinraft <args>` for `peer` to completion; answers the time and the peak RSS seen. */
async function runCommand(peer: BenchPeer, args: string[]): Promise<{ ms: number; peak: number }> {
  const began = performance.now()
  const child = spawn(process.execPath, [binPath, '--config', peer.folder, ...args], {
    env: peer.environment,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let errors = ''
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000)
  })
  const sampler = sampleMemory(child.pid!, 25)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  const memory = await sampler.stop()
  if (code !== 0) throw new Error(`pinraft ${args.join(' ')} exited with ${code}:\n${errors}`)
  return { ms: performance.now() - began, peak: Math.max(memory.peak, memory.maxRss) }
}

/**
 * Waits (at most 180 s) until `pid` uses under 10 % of a core for 3 seconds in a row (one quiet
 * second came too early: the tracker's first pass has pauses).
 */
async function waitIdle(pid: number): Promise<{ ms: number; peak: number }> {
  const began = performance.now()
  const sampler = sampleMemory(pid, 100)
  let before = await processCpu(pid)
  let quiet = 0
  while (performance.now() - began < 180_000 && quiet < 3) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const now = await processCpu(pid)
    quiet = now - before < 100 ? quiet + 1 : 0
    before = now
  }
  const memory = await sampler.stop()
  return { ms: performance.now() - began, peak: Math.max(memory.maxRss, memory.peak) }
}

/** Streams `path` at full speed, sampling the daemon's RSS meanwhile. */
async function streamRoute(peer: BenchPeer, path: string) {
  const pool = new Pool(peer.apiUrl, { connections: 1 })
  const pid = peer.child!.pid!
  const before = (await processMemory(pid)).rss
  const sampler = sampleMemory(pid, 20)
  const began = performance.now()
  const response = await pool.request({ method: 'GET', path, headersTimeout: 120_000 })
  let first = Number.NaN
  let lines = 0
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    if (Number.isNaN(first)) first = performance.now() - began
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++
  }
  const total = performance.now() - began
  const memory = await sampler.stop()
  await pool.close()
  if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`)
  return { first, total, lines, before, growth: memory.maxRss - before }
}

const root = await mkdtemp(join(tmpdir(), 'pinraft-million-bench-'))
const peers = await createPeers(
  root,
  2,
  values.profile === undefined
    ? {}
    : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values.profile}` },
)
const [peer, joiner] = peers as [BenchPeer, BenchPeer]
try {
  const exportFile = join(root, 'pins.json')
  let began = performance.now()
  await writeExport(exportFile)
  console.log(
    `${count.toLocaleString('en-US')} pins: export file written in ${((performance.now() - began) / 1000).toFixed(1)} s`,
  )

  const imported = await runCommand(peer, ['state', 'import', '--force', exportFile])
  console.log(
    `state import: ${(imported.ms / 1000).toFixed(1)} s, peak RSS ${megabytes(imported.peak)} (target ≤ 15 s, ≤ 500 MB)`,
  )

  began = performance.now()
  startPeer(peer)
  const ready = await waitReady(peer, 120_000)
  console.log(`first start on the imported state: ready after ${(ready / 1000).toFixed(1)} s`)
  // The pin tracker's first pass queues every pin allocated here (the embedded node has none
  // of them): measured apart, as the daemon's settled state is what the routes are read in.
  const settling = await waitIdle(peer.child!.pid!)
  console.log(
    `settled (the tracker's first pass over the pinset done: under 10 % of a core for 3 s) after ${(settling.ms / 1000).toFixed(1)} s, RSS peak meanwhile ${megabytes(settling.peak)}`,
  )
  const settled = await processMemory(peer.child!.pid!)
  const heap = await metric(peer, 'nodejs_heap_size_used_bytes')
  const external = await metric(peer, 'nodejs_external_memory_bytes')
  console.log(
    `daemon RSS with ${count.toLocaleString('en-US')} pins, settled: ${megabytes(settled.rss)} (peak so far ${megabytes(settled.peak)}; JavaScript heap used ${megabytes(heap ?? Number.NaN)}, external ${megabytes(external ?? Number.NaN)}; target ≤ 400 MB)`,
  )

  const routes = ['/allocations', ...(values['skip-status'] ? [] : ['/pins?local=true'])]
  for (const path of routes) {
    const result = await streamRoute(peer, path)
    console.log(
      `GET ${path}: ${result.lines.toLocaleString('en-US')} lines, first byte after ${result.first.toFixed(0)} ms, all after ${(result.total / 1000).toFixed(1)} s, daemon RSS +${megabytes(result.growth)} while streaming (from ${megabytes(result.before)}; targets: ≤ 50 ms, ≤ 50 MB)`,
    )
  }

  await stopPeer(peer)
  startPeer(peer)
  const restarted = await waitReady(peer, 120_000)
  console.log(
    `restart (SIGTERM, then daemon again): ready after ${(restarted / 1000).toFixed(1)} s (target ≤ 5 s)`,
  )

  const resettled = await waitIdle(peer.child!.pid!)
  console.log(`settled again after ${(resettled.ms / 1000).toFixed(1)} s`)
  startPeer(joiner, ['--bootstrap', clusterAddress(peer)])
  try {
    const joined = await waitReady(joiner, 180_000)
    console.log(
      `a peer joining with --bootstrap: ready after ${(joined / 1000).toFixed(1)} s, its RSS ${megabytes((await processMemory(joiner.child!.pid!)).rss)} (target ≤ 20 s)`,
    )
  } catch (error) {
    // Recorded, not fatal: the figures above stand.
    const last = (error as Error).message.split('\n').filter((line) => line !== '')
    console.log(
      `a peer joining with --bootstrap: NOT ready (${last[0]}); its last log line: ${last.at(-1)?.slice(0, 400)}`,
    )
  }
} finally {
  for (const each of [...peers].reverse()) await stopPeer(each)
  await rm(root, { recursive: true, force: true })
}
