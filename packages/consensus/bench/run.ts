/**
 * consensus benchmark: three peers on loopback TCP (noise, yamux) with durable LevelDB storage.
 * `pnpm --filter @pinraft/consensus bench` (add `--quick` for a short smoke run).
 */
import { cidFor, TestCluster, type TestPeer } from '../test/support/peers.ts'

const quick = process.argv.includes('--quick')
// IPFS Cluster's default timings, so the failover figure reads against election_timeout (1 s).
const defaults = {
  heartbeat_timeout: '1s',
  election_timeout: '1s',
  leader_lease_timeout: '500ms',
  commit_retries: 1,
  commit_retry_delay: '200ms',
  network_timeout: '10s',
  wait_for_leader_timeout: '15s',
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

let counter = 0
/** Fresh CIDs computed before the clock starts: the clients' hashing is not the component's. */
async function freshCids(count: number): Promise<string[]> {
  const cids: string[] = new Array(count)
  for (let index = 0; index < count; index++) {
    cids[index] = await cidFor(`bench ${process.pid} ${counter++}`)
  }
  return cids
}

// More than any point submits on this machine (about 10,000 pins/s at most for 5 s).
const cidsPerPoint = quick ? 40_000 : 150_000

async function throughput(peer: TestPeer, clients: number, seconds: number) {
  const cids = await freshCids(cidsPerPoint)
  let next = 0
  const latencies: number[] = []
  const end = performance.now() + seconds * 1000
  const start = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end && next < cids.length) {
        const cid = cids[next++] as string
        const began = performance.now()
        await peer.consensus.logPin({ cid })
        latencies.push(performance.now() - began)
      }
    }),
  )
  const elapsed = (performance.now() - start) / 1000
  return {
    exhausted: next >= cids.length,
    rate: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

const cluster = new TestCluster({ countAdded: false })
const lines: string[] = []
const log = (line: string) => {
  lines.push(line)
  console.log(line)
}
try {
  const peers = await cluster.bootstrap(3, defaults)
  const leader = await cluster.leader()
  const follower = peers.find((peer) => peer !== leader) as TestPeer
  const seconds = quick ? 1 : 5
  const measured = new Map<string, { rate: number; p50: number; p99: number }>()
  for (const [where, peer] of [
    ['leader', leader],
    ['follower', follower],
  ] as const) {
    for (const clients of [1, 64]) {
      const result = await throughput(peer, clients, seconds)
      if (result.exhausted)
        throw new Error(
          `${where}, ${clients} clients used every precomputed CID: raise cidsPerPoint`,
        )
      measured.set(`${where} ${clients}`, result)
      const target = where === 'leader' && clients === 64 ? ' (target: 25,000 pins/s)' : ''
      log(
        `submitted on the ${where}, ${clients} client(s): ${Math.round(result.rate).toLocaleString('en-US')} pins/s${target}, commit latency p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
      )
    }
  }
  const leaderP50 = measured.get('leader 1')?.p50 ?? Number.NaN
  const followerP50 = measured.get('follower 1')?.p50 ?? Number.NaN
  log(
    `a forwarded pin costs ${(followerP50 - leaderP50).toFixed(2)} ms more at p50 than one on the leader (target: at most 0.4 ms, one loopback round trip)`,
  )

  // Failover: stop the leader abruptly and time until a survivor commits a pin.
  const kills = quick ? 5 : 20
  const failovers: number[] = []
  for (let i = 0; i < kills; i++) {
    const current = await cluster.leader()
    const survivor = cluster.running().find((peer) => peer !== current) as TestPeer
    const began = performance.now()
    await current.libp2p.stop() // the network goes first: nothing more leaves this peer
    const stopping = current.consensus.shutdown().catch(() => {})
    for (;;) {
      try {
        await survivor.consensus.logPin(
          { cid: await cidFor(`bench ${process.pid} ${counter++}`) },
          { signal: AbortSignal.timeout(20_000) },
        )
        break
      } catch {
        // No leader yet: keep trying.
      }
    }
    failovers.push(performance.now() - began)
    await stopping // its store must be closed before it restarts on the same folder
    const restarted = await cluster.start({
      key: current.key,
      folder: current.folder,
      raft: defaults,
    })
    await restarted.consensus.ready({ signal: AbortSignal.timeout(30_000) })
  }
  log(
    `leader killed ${kills} times: a survivor committed again after p50 ${Math.round(percentile(failovers, 50))} ms, p99 ${Math.round(percentile(failovers, 99))} ms (target: within 2 × election_timeout = 2000 ms)`,
  )

  // Join: a new peer catches up with 100,000 pins.
  const pins = quick ? 10_000 : 100_000
  const leaderNow = await cluster.leader()
  async function* inputs() {
    for (let i = 0; i < pins; i++) yield { cid: await cidFor(`join ${i}`) }
  }
  await leaderNow.consensus.rollback(inputs())
  const began = performance.now()
  const joiner = await cluster.start({ staging: true, raft: defaults })
  await leaderNow.consensus.addPeer(joiner.id)
  await joiner.consensus.ready({ signal: AbortSignal.timeout(60_000) })
  log(
    `a joining peer was ready with ${joiner.consensus.state().count().toLocaleString('en-US')} pins after ${Math.round(performance.now() - began)} ms (target: 5000 ms)`,
  )
} finally {
  await cluster.stopAll()
}
