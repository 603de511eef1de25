// How long the checker takes on histories shaped like the harness's: concurrent clients on one
// CID at a time, some calls unknown. Bounded: a few seconds in all.
import type { CompletedOperation, PinValue } from '../src/history.ts'
import { checkLinearizability } from '../src/linearizability.ts'
import { seededRandom } from '../src/random.ts'

function history(
  operations: number,
  clients: number,
  perCid: number,
  seed: number,
): CompletedOperation[] {
  const random = seededRandom(seed)
  const state = new Map<string, PinValue>()
  const result: CompletedOperation[] = []
  // Each call spans about `clients` linearization points: that many calls overlap.
  for (let index = 0; index < operations; index++) {
    const cid = `cid-${Math.floor(index / perCid)}`
    const point = index * 10
    const invokedAt = point - Math.floor(random() * clients * 10)
    const completedAt = point + Math.floor(random() * clients * 10)
    const draw = random()
    const unknown = random() < 0.01
    const base = {
      id: index,
      process: index % clients,
      cid,
      node: 'peer-1',
      invokedAt,
      completedAt,
    }
    const current = state.get(cid) ?? 'unpinned'
    if (draw < 0.4) {
      result.push({ ...base, kind: 'read', outcome: 'ok', value: current })
    } else if (draw < 0.75) {
      state.set(cid, 'pinned')
      result.push({ ...base, kind: 'pin', outcome: unknown ? 'unknown' : 'ok' })
    } else if (current === 'unpinned') {
      result.push({ ...base, kind: 'unpin', outcome: 'ok', value: 'absent' })
    } else {
      state.set(cid, 'unpinned')
      result.push({
        ...base,
        kind: 'unpin',
        outcome: unknown ? 'unknown' : 'ok',
        value: 'unpinned',
      })
    }
  }
  return result
}

const cases = [
  { operations: 20_000, clients: 6, perCid: 30 },
  { operations: 20_000, clients: 16, perCid: 40 },
  { operations: 5_000, clients: 8, perCid: 500 },
]
for (const shape of cases) {
  const operations = history(shape.operations, shape.clients, shape.perCid, 1)
  for (const reads of ['stale', 'linearizable'] as const) {
    const started = process.hrtime.bigint()
    const result = checkLinearizability(operations, { reads })
    const milliseconds = Number(process.hrtime.bigint() - started) / 1e6
    const steps = result.cids.reduce((total, entry) => total + entry.steps, 0)
    console.log(
      `${shape.operations} calls, ${shape.clients} overlapping, ${shape.perCid} per CID, reads ${reads}: ${result.verdict}, ${milliseconds.toFixed(0)} ms, ${steps} steps`,
    )
  }
}
