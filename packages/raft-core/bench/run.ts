/**
 * raft-core benchmark: three nodes in one process, in-memory storage and transport, 16-byte
 * entries. Run with `pnpm --filter @pinraft/raft-core bench` (or `pnpm bench` at the root).
 * Pass `--quick` for a short smoke run. In the same run, coaty's bench (`bench/coaty.ts`) runs in
 * a child process and the ratios against it are printed.
 */

import { seededRandom } from '../sim/random.ts'
import {
  bootstrapState,
  MemoryLogStore,
  MemoryNetwork,
  MemorySnapshotStore,
  MemoryStableStore,
  RaftNode,
  RawNode,
  type StateMachine,
} from '../src/index.ts'
import { runCoatyBench } from './coaty.ts'

const quick = process.argv.includes('--quick')
const payload = new Uint8Array(16).fill(7)

class CountingStateMachine implements StateMachine<number> {
  count = 0
  apply(): number {
    return ++this.count
  }
  async *snapshot(): AsyncIterable<Uint8Array> {
    yield new Uint8Array(8)
  }
  async restore(): Promise<void> {}
}

/**
 * Stores that share entries instead of copying them (`copyEntries: false`), as etcd-io/raft's
 * MemoryStorage (and so coaty's) does; one case measures the defensive copies too.
 */
let copyEntries = false

async function cluster(ids: string[]) {
  const network = new MemoryNetwork()
  const nodes = ids.map(
    (id, i) =>
      new RaftNode<number>(
        {
          logStore: new MemoryLogStore({ copyEntries }),
          stableStore: new MemoryStableStore(),
          snapshotStore: new MemorySnapshotStore(),
          transport: network.transport(id),
          stateMachine: new CountingStateMachine(),
        },
        // IPFS Cluster's compaction defaults, so the retained log stays bounded as in production.
        {
          tickInterval: 50,
          electionTicks: 10,
          random: seededRandom(i + 1),
          snapshotThreshold: 8192,
          trailingLogs: 10240,
        },
      ),
  )
  for (const node of nodes) {
    await node.bootstrap({ voters: ids, nonVoters: [], staging: [] })
    await node.start()
  }
  const leaderId = await nodes[0]?.waitForLeader({ signal: AbortSignal.timeout(10_000) })
  const leader = nodes.find((node) => node.id === leaderId) as RaftNode<number>
  return { nodes, leader }
}

async function sequential(durationMs: number): Promise<number> {
  const { nodes, leader } = await cluster(['a', 'b', 'c'])
  let count = 0
  const end = performance.now() + durationMs
  const start = performance.now()
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) {
      await leader.propose(payload)
      count++
    }
  }
  const rate = count / ((performance.now() - start) / 1000)
  for (const node of nodes) await node.stop()
  return rate
}

async function concurrent(proposers: number, durationMs: number): Promise<number> {
  const { nodes, leader } = await cluster(['a', 'b', 'c'])
  let count = 0
  const end = performance.now() + durationMs
  const start = performance.now()
  await Promise.all(
    Array.from({ length: proposers }, async () => {
      // The clock is read every 16 proposals, as the sequential case reads it every 100:
      // reading it after each of a million proposals a second is the harness's cost, not Raft's.
      while (performance.now() < end) {
        for (let i = 0; i < 16; i++) {
          await leader.propose(payload)
          count++
        }
      }
    }),
  )
  const rate = count / ((performance.now() - start) / 1000)
  for (const node of nodes) await node.stop()
  return rate
}

/** The pure core alone: RawNodes stepping each other's messages synchronously. */
function coreOnly(entries: number, batch: number): number {
  const ids = ['a', 'b', 'c']
  const initial = bootstrapState({ voters: ids, nonVoters: [], staging: [] })
  const nodes = new Map(
    ids.map((id, i) => [
      id,
      new RawNode(
        id,
        { hardState: initial.hardState, entries: initial.entries },
        { random: seededRandom(i + 1) },
      ),
    ]),
  )
  const drain = () => {
    for (let round = 0; round < 1000; round++) {
      let busy = false
      for (const node of nodes.values()) {
        if (!node.hasReady()) continue
        busy = true
        const ready = node.ready()
        node.advance(ready)
        for (const message of ready.messages) nodes.get(message.to)?.step(message)
      }
      if (!busy) return
    }
  }
  drain() // applies the bootstrap configuration, so the node may campaign
  nodes.get('a')?.campaign()
  drain()
  const leader = [...nodes.values()].find((node) => node.raft.role === 'leader') as RawNode
  const data = Array.from({ length: batch }, () => payload)
  const start = performance.now()
  for (let done = 0; done < entries; done += batch) {
    leader.propose(data)
    drain()
  }
  return entries / ((performance.now() - start) / 1000)
}

function heapPerEntry(entries: number): number {
  const gc = (globalThis as { gc?: () => void }).gc
  const initial = bootstrapState({ voters: ['a'], nonVoters: [], staging: [] })
  const node = new RawNode(
    'a',
    { hardState: initial.hardState, entries: initial.entries },
    { random: seededRandom(1) },
  )
  node.advance(node.ready())
  node.campaign()
  gc?.()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < entries; i += 1000) {
    node.propose(Array.from({ length: 1000 }, () => new Uint8Array(16)))
    const ready = node.ready()
    node.advance(ready)
  }
  gc?.()
  const after = process.memoryUsage().heapUsed
  if (node.status().lastIndex < entries) throw new Error('entries were not retained')
  return (after - before) / entries
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

const seconds = quick ? 0.5 : 1.5
const repetitions = quick ? 1 : 3
const sequentialRuns: number[] = []
const concurrentRuns: number[] = []
const copyingRuns: number[] = []
const coatySequentialRuns: number[] = []
const coatyPipelinedRuns: number[] = []
let coatyMissing: string | undefined
let coatyFolderUsed = ''
// Interleaved, one repetition of each after the other: the machine's load moves by tens of
// percent from one minute to the next, and the ratios are what count.
for (let repetition = 0; repetition < repetitions; repetition++) {
  if (coatyMissing === undefined) {
    const coaty = await runCoatyBench({
      repetitions: 1,
      sequentialEntries: quick ? 2000 : 20_000,
      pipelinedEntries: quick ? 20_000 : 200_000,
      window: 256,
    })
    if ('missing' in coaty) {
      coatyMissing = coaty.missing
    } else {
      coatySequentialRuns.push(coaty.sequential)
      coatyPipelinedRuns.push(coaty.pipelined)
      coatyFolderUsed = coaty.folder
    }
  }
  sequentialRuns.push(await sequential(seconds * 1000))
  concurrentRuns.push(await concurrent(256, seconds * 1000))
  copyEntries = true
  copyingRuns.push(await concurrent(256, seconds * 1000))
  copyEntries = false
}
const results = {
  sequential: median(sequentialRuns),
  concurrent: median(concurrentRuns),
  concurrentCopying: median(copyingRuns),
  coreBatch1: coreOnly(quick ? 20_000 : 200_000, 1),
  coreBatch256: coreOnly(quick ? 200_000 : 2_000_000, 256),
  heapPerEntry: heapPerEntry(quick ? 100_000 : 1_000_000),
}
const format = (value: number) => Math.round(value).toLocaleString('en-US')
const list = (runs: number[]) => runs.map(format).join(', ')
const coatySequential = coatyMissing === undefined ? median(coatySequentialRuns) : undefined
const coatyPipelined = coatyMissing === undefined ? median(coatyPipelinedRuns) : undefined
const ratio = (ours: number, theirs: number | undefined) =>
  theirs === undefined ? '' : `, ${(ours / theirs).toFixed(2)} × coaty`
console.log(
  `raft-core (${quick ? 'quick' : 'full'} run, Node ${process.version}, 3 nodes in one process, 16-byte entries, medians of ${repetitions}, interleaved with coaty's)`,
)
if (coatyMissing !== undefined) {
  console.log(`coaty: not measured (${coatyMissing})`)
} else {
  console.log(
    `coaty RawNode, sequential:          ${format(coatySequential ?? 0)} entries/s (${list(coatySequentialRuns)}); 256 in flight: ${format(coatyPipelined ?? 0)} entries/s (${list(coatyPipelinedRuns)}) [${coatyFolderUsed}]`,
  )
}
console.log(
  `RaftNode, 1 sequential proposer:   ${format(results.sequential)} committed entries/s (${list(sequentialRuns)})${ratio(results.sequential, coatySequential)} (target ≥ 2 ×)`,
)
console.log(
  `RaftNode, 256 concurrent proposers: ${format(results.concurrent)} committed entries/s (${list(concurrentRuns)})${ratio(results.concurrent, coatyPipelined)} (target ≥ 15 ×)`,
)
console.log(
  `  the same, memory stores copying:  ${format(results.concurrentCopying)} committed entries/s (${list(copyingRuns)})${ratio(results.concurrentCopying, coatyPipelined)}`,
)
console.log(
  `RawNode only, 1 entry per propose:  ${format(results.coreBatch1)} entries/s${ratio(results.coreBatch1, coatySequential)}`,
)
console.log(
  `RawNode only, 256 per propose:      ${format(results.coreBatch256)} entries/s${ratio(results.coreBatch256, coatyPipelined)}`,
)
console.log(
  `heap per retained log entry:        ${format(results.heapPerEntry)} bytes${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for a precise figure)'}`,
)
