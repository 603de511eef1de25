/**
 * `GET /pins` over the status routes and the cluster component, with three peers on
 * 127.0.0.1 (real libp2p, the cluster protocol) and fake IPFS nodes (pins complete at once), so
 * what is measured is the tracker, the merge, the RPC and the HTTP stream, not an IPFS node.
 * `pnpm --filter @pinraft/service exec node --conditions=@pinraft/source bench/pin-status.ts`
 * (`--quick`: 10,000 pins instead of 100,000).
 *
 * Prints: time until every peer pinned every pin (tracker throughput, three trackers sharing
 * one process), and for `GET /pins?local=true` and `GET /pins` (3 peers) the time to the first
 * line and to the end of the stream.
 */
import type { AddressInfo } from 'node:net'
import fastify from 'fastify'
import { pino } from 'pino'
import { handleError } from '../src/http/error-handler.ts'
import { pinStatusRoutes } from '../src/http/routes/pin-status.ts'
import { contentCid, StatusCluster } from '../test/support/status-cluster.ts'

const quick = process.argv.includes('--quick')
const count = quick ? 10_000 : 100_000

async function waitUntil(check: () => boolean): Promise<void> {
  for (let round = 0; round < 10_000_000 && !check(); round++) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (!check()) throw new Error('the trackers did not finish')
}

async function measure(url: string): Promise<{ first: number; total: number; lines: number }> {
  const began = performance.now()
  const response = await fetch(url)
  const reader = response.body!.getReader()
  let first = Number.NaN
  let lines = 0
  for (;;) {
    const chunk = await reader.read()
    if (chunk.done) break
    if (Number.isNaN(first)) first = performance.now() - began
    for (const byte of chunk.value) if (byte === 10) lines++
  }
  return { first, total: performance.now() - began, lines }
}

const cluster = new StatusCluster()
const peers = await cluster.start(3)
const cids = []
for (let i = 0; i < count; i++) cids.push(await contentCid(`status bench ${i}`))
for (const cid of cids) peers[0]!.connector.addContent(cid)
const began = performance.now()
for (const cid of cids) cluster.group.pin({ cid, timestamp: Date.now() })
await waitUntil(() =>
  peers.every((peer) => peer.connector.pinCount === count && peer.tracker.operationCount() === 0),
)
const seconds = (performance.now() - began) / 1000
console.log(
  `pinned: ${count} pins on 3 peers in ${seconds.toFixed(1)} s = ${Math.round(count / seconds)} pins/s (each peer)`,
)

const app = fastify()
app.setErrorHandler(handleError(pino({ level: 'silent' })))
app.register(pinStatusRoutes, {
  cluster: peers[0]!.cluster,
  replicationFactorMin: -1,
  replicationFactorMax: -1,
  now: () => Date.now(),
})
await app.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
for (const [label, path] of [
  ['GET /pins?local=true', '/pins?local=true'],
  ['GET /pins (3 peers)', '/pins'],
] as const) {
  const result = await measure(`${base}${path}`)
  if (result.lines !== count) throw new Error(`${label}: ${result.lines} lines, expected ${count}`)
  console.log(
    `${label}: ${result.lines} lines, first after ${result.first.toFixed(0)} ms, all after ${(result.total / 1000).toFixed(2)} s`,
  )
}
await app.close()
await cluster.stop()
