/**
 * pintracker benchmark: the stateless tracker over the fake IPFS connector (pins complete at
 * once), so what is measured is the tracker itself, not an IPFS node.
 * `pnpm --filter @pinraft/pintracker bench` (add `--quick` for a short smoke run).
 *
 * - pins/s: N pins applied at once, until every one is pinned (concurrent_pins 10);
 * - µs per status(cid) of a pinned CID (pinset lookup + pinLsCid), and per line of statusAll;
 * - bytes of heap per tracked pin: while N operations are queued (the tracker's records) and
 *   once all are pinned (should be ~0: nothing is kept per pin beyond the pinset).
 */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { StatelessTracker } from '../src/stateless-tracker.ts'
import { FakeIpfsConnector, MemoryConsensusGroup } from '../src/testing/index.ts'

const quick = process.argv.includes('--quick')
const count = quick ? 1000 : 10_000
const peerId = '12D3KooWGRUVh9WZTm9cZkZ5rBdDBHuDRT9CUXvRuAH1Qpcf4Crk'

const gc = (globalThis as { gc?: () => void }).gc
function heap(): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

async function cids(total: number, label: string): Promise<CID[]> {
  const list: CID[] = []
  for (let i = 0; i < total; i++) {
    list.push(CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`${label} ${i}`))))
  }
  return list
}

async function waitUntil(check: () => boolean): Promise<void> {
  for (let round = 0; round < 1_000_000 && !check(); round++) {
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (!check()) throw new Error('the tracker did not finish')
}

async function throughput(): Promise<void> {
  const group = new MemoryConsensusGroup()
  const connector = new FakeIpfsConnector()
  await connector.start()
  const tracker = new StatelessTracker({ connector, consensus: group.peer(peerId), peerId })
  await tracker.start()
  const list = await cids(count, 'throughput')
  for (const cid of list) connector.addContent(cid)
  const began = performance.now()
  for (const cid of list) group.pin({ cid, timestamp: Date.now() })
  await waitUntil(() => connector.pinCount === count && tracker.operationCount() === 0)
  const seconds = (performance.now() - began) / 1000
  console.log(
    `pins: ${count} pinned in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} pins/s`,
  )

  const statusBegan = performance.now()
  for (const cid of list) {
    const info = await tracker.status(cid)
    if (info.status !== 'pinned') throw new Error(`${cid} is ${info.status}`)
  }
  const perStatus = ((performance.now() - statusBegan) * 1000) / count
  console.log(`status(cid): ${perStatus.toFixed(1)} µs per call`)

  const allBegan = performance.now()
  let lines = 0
  for await (const _ of tracker.statusAll()) lines++
  const perLine = ((performance.now() - allBegan) * 1000) / lines
  console.log(`statusAll: ${lines} lines, ${perLine.toFixed(1)} µs per line`)
  await tracker.stop()
}

async function memory(): Promise<void> {
  const group = new MemoryConsensusGroup()
  const connector = new FakeIpfsConnector()
  await connector.start()
  // One pin at a time and no content anywhere: every other operation stays queued.
  const tracker = new StatelessTracker(
    { connector, consensus: group.peer(peerId), peerId },
    {
      configuration: {
        concurrentPins: 1,
        maxPinQueueSize: 1_000_000,
        priorityPinMaxAge: 86_400_000,
        priorityPinMaxRetries: 5,
      },
    },
  )
  await tracker.start()
  const list = await cids(count, 'memory')
  const empty = heap()
  for (const cid of list) group.pin({ cid, timestamp: Date.now() })
  const queued = heap()
  const operations = tracker.operationCount()
  // Stopping forgets the operations; what is left is the pinset.
  await tracker.stop()
  const pinsetOnly = heap()
  console.log(
    `memory: pinset ${Math.round((pinsetOnly - empty) / count)} B/pin; tracker records while ${operations} operations are queued: ${Math.round((queued - pinsetOnly) / operations)} B/operation`,
  )

  const idle = new MemoryConsensusGroup()
  const idleConnector = new FakeIpfsConnector()
  await idleConnector.start()
  const idleTracker = new StatelessTracker({
    connector: idleConnector,
    consensus: idle.peer(peerId),
    peerId,
  })
  await idleTracker.start()
  for (const cid of list) idleConnector.addContent(cid)
  for (const cid of list) idle.pin({ cid, timestamp: Date.now() })
  await waitUntil(() => idleConnector.pinCount === count && idleTracker.operationCount() === 0)
  const running = heap()
  await idleTracker.stop()
  const stopped = heap()
  console.log(
    `memory: tracker with all ${count} pinned: ${Math.round((running - stopped) / count)} B/pin beyond the pinset and the IPFS node`,
  )
  if (gc === undefined) console.log('(run with --expose-gc for steadier memory figures)')
  // Keep the measured objects alive until here.
  if (group.pinset.count() + idle.pinset.count() < 0) console.log(connector.pinCount)
}

await throughput()
await memory()
