/**
 * Pins through the HTTP API of one real single-peer daemon (libp2p, Raft on LevelDB, fastify)
 * on 127.0.0.1: sequential latency and concurrent throughput. Bounded by counts (about 10 s on
 * 2 cores). `--quick` divides the counts by 4.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { pino } from 'pino'
import { ApiClient } from '../src/client/api-client.ts'
import { initializeFolder } from '../src/config/initialize.ts'
import { startDaemon } from '../src/daemon/daemon.ts'

const quick = process.argv.includes('--quick')
const sequential = quick ? 100 : 400
const concurrent = quick ? 200 : 800
const concurrency = 16

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
}

async function cid(index: number): Promise<string> {
  const digest = await sha256.digest(new TextEncoder().encode(`bench ${index}`))
  return CID.create(1, raw.code, digest).toString()
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
}

const root = await mkdtemp(join(tmpdir(), 'pinraft-bench-'))
const folder = join(root, 'peer')
await initializeFolder({ folder, peers: [], force: false })
const daemon = await startDaemon({
  folder,
  bootstrap: [],
  leave: false,
  joinTimeout: 30_000,
  environment: {
    PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
  },
  logger: pino({ level: 'warn' }),
})
try {
  await daemon.consensus.ready({ signal: AbortSignal.timeout(20_000) })
  const client = new ApiClient({ baseUrl: daemon.apiUrl })
  let next = 0

  const latencies: number[] = []
  const sequentialStart = performance.now()
  for (let index = 0; index < sequential; index++) {
    const started = performance.now()
    await client.pin(await cid(next++), { name: 'bench' })
    latencies.push(performance.now() - started)
  }
  const sequentialSeconds = (performance.now() - sequentialStart) / 1000
  latencies.sort((a, b) => a - b)

  const concurrentStart = performance.now()
  let issued = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < concurrent) {
        issued++
        await client.pin(await cid(next++))
      }
    }),
  )
  const concurrentSeconds = (performance.now() - concurrentStart) / 1000

  const listStart = performance.now()
  const listed = (await client.allocations()).length
  const listMilliseconds = performance.now() - listStart

  console.log(`single peer, POST /pins/{cid} through HTTP, Raft on LevelDB (raft-level)`)
  console.log(
    `sequential: ${sequential} pins in ${sequentialSeconds.toFixed(2)} s = ${(sequential / sequentialSeconds).toFixed(0)} pins/s; latency p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms`,
  )
  console.log(
    `concurrent (${concurrency} clients): ${concurrent} pins in ${concurrentSeconds.toFixed(2)} s = ${(concurrent / concurrentSeconds).toFixed(0)} pins/s`,
  )
  console.log(`GET /allocations with ${listed} pins: ${listMilliseconds.toFixed(1)} ms`)
} finally {
  await daemon.stop()
  await rm(root, { recursive: true, force: true })
}
