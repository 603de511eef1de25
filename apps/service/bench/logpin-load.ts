/**
 * The `logPin` side of the daemon benchmark, run by `bench/daemon.ts` in a process of its own:
 * three daemons (the same default configuration as the daemon processes, embedded IPFS
 * included) started in this one process with `startDaemon`, and closed-loop clients calling
 * `consensus.logPin` with fresh precomputed CIDs on the leader, then on a follower. Prints one
 * JSON line per point (leader then follower, in the order of `--clients`).
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { pino } from 'pino'
import { type Daemon, startDaemon } from '../src/daemon/daemon.ts'
import { clusterAddress, createPeers } from './support/daemon-processes.ts'
import { percentile } from './support/statistics.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1,64,256' },
    'max-requests': { type: 'string', default: '200000' },
  },
})
const seconds = Number(values.seconds)
const clientCounts = values.clients.split(',').map(Number)
const maxRequests = Number(values['max-requests'])

function cidsFor(label: string): string[] {
  const cids: string[] = new Array(maxRequests)
  for (let index = 0; index < maxRequests; index++) {
    const digest = createHash('sha256').update(`${label} ${index}`).digest()
    cids[index] = CID.createV1(raw.code, createDigest(0x12, digest)).toString()
  }
  return cids
}

async function load(daemon: Daemon, clients: number, cids: string[]) {
  const latencies = new Float64Array(cids.length)
  let issued = 0
  let completed = 0
  let errors = 0
  let firstError = ''
  const deadline = performance.now() + seconds * 1000
  const cpuBefore = process.cpuUsage()
  const began = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < cids.length && performance.now() < deadline) {
        const cid = cids[issued++] as string
        const started = performance.now()
        try {
          await daemon.consensus.logPin({ cid })
        } catch (error) {
          errors++
          if (firstError === '') firstError = (error as Error).message
          continue
        }
        latencies[completed++] = performance.now() - started
      }
    }),
  )
  const elapsed = (performance.now() - began) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const sorted = latencies.subarray(0, completed).sort()
  return {
    pins: completed,
    seconds: elapsed,
    rate: completed / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors,
    firstError,
    exhausted: issued >= cids.length,
    cpuMicroseconds: cpu.user + cpu.system,
  }
}

const root = await mkdtemp(join(tmpdir(), 'pinraft-logpin-bench-'))
const peers = await createPeers(root, 3)
const daemons: Daemon[] = []
// Logs to stderr: stdout carries the results.
const logger = pino({ level: 'warn' }, pino.destination(2))
try {
  for (const [index, peer] of peers.entries()) {
    const daemon = await startDaemon({
      folder: peer.folder,
      bootstrap: index === 0 ? [] : [clusterAddress(peers[0]!)],
      leave: false,
      joinTimeout: 60_000,
      environment: peer.environment,
      logger: logger.child({ peer: peer.name }),
    })
    daemons.push(daemon)
    await daemon.consensus.ready({ signal: AbortSignal.timeout(60_000) })
  }
  const leader = daemons.find((daemon) => daemon.consensus.status().role === 'leader')
  if (leader === undefined) throw new Error('no leader among the three daemons')
  const follower = daemons.find((daemon) => daemon !== leader) as Daemon
  await load(leader, 16, cidsFor(`${process.pid} warm-up`).slice(0, 20_000))
  let round = 0
  for (const daemon of [leader, follower]) {
    for (const clients of clientCounts) {
      const result = await load(daemon, clients, cidsFor(`${process.pid} ${round++}`))
      process.stdout.write(`${JSON.stringify(result)}\n`)
    }
  }
} finally {
  for (const daemon of daemons.reverse()) await daemon.stop()
  await rm(root, { recursive: true, force: true })
}
