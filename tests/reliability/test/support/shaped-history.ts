import type { CompletedOperation, PinValue } from '../../src/history.ts'
import { seededRandom } from '../../src/random.ts'

/**
 * A history shaped like the harness's: `clients` concurrent calls on one CID at a time,
 * `perCid` calls per CID, reads local or consistent on five peers, 1% of writes unknown. It comes
 * from a correct execution (reads see the value at their point), so it is linearizable.
 */
export function shapedHistory(
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
      node: `peer-${1 + (index % 5)}`,
      invokedAt,
      completedAt,
    }
    const current = state.get(cid) ?? 'unpinned'
    if (draw < 0.4) {
      const consistency = draw < 0.2 ? 'consistent' : 'local'
      result.push({ ...base, kind: 'read', consistency, outcome: 'ok', value: current })
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
