// How long the checker takes on histories shaped like the harness's: concurrent clients on one
// CID at a time, some calls unknown. Bounded: a few seconds in all.
import { checkLinearizability } from '../src/linearizability.ts'
import { shapedHistory } from '../test/support/shaped-history.ts'

const cases = [
  { operations: 20_000, clients: 6, perCid: 30 },
  { operations: 20_000, clients: 16, perCid: 40 },
  { operations: 5_000, clients: 8, perCid: 500 },
]
for (const shape of cases) {
  const operations = shapedHistory(shape.operations, shape.clients, shape.perCid, 1)
  for (const localReads of ['ignored', 'monotonic', 'linearizable'] as const) {
    const started = process.hrtime.bigint()
    const result = checkLinearizability(operations, { localReads })
    const milliseconds = Number(process.hrtime.bigint() - started) / 1e6
    const steps = result.cids.reduce((total, entry) => total + entry.steps, 0)
    console.log(
      `${shape.operations} calls, ${shape.clients} overlapping, ${shape.perCid} per CID, local reads ${localReads}: ${result.verdict}, ${milliseconds.toFixed(0)} ms, ${steps} steps`,
    )
  }
}
