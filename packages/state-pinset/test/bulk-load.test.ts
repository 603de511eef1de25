import { describe, expect, it } from 'vitest'
import type { Operation } from '../src/index.ts'
import { createPinsetState, encodeOperation, exportState, InvalidPinError } from '../src/index.ts'
import { applyAll, cidOf, peerOf, random, snapshotBytes } from './fixtures.ts'

/** Pins of 150 CIDs, many listed several times: the same pin again with another timestamp
 * (equivalent, so the first stays), or another name or allocations (so the later one wins). */
function pinOperations(seed: number, count: number): Operation[] {
  const next = random(seed)
  const pick = (n: number) => Math.floor(next() * n)
  return Array.from({ length: count }, () => {
    const cid = cidOf(pick(150))
    const allocations = Array.from({ length: pick(4) }, () => peerOf(pick(8)))
    return {
      type: 'pin' as const,
      pin: {
        cid,
        name: `pin ${pick(2)}`,
        allocations: [...new Set(allocations)],
        replicationFactorMin: 1,
        replicationFactorMax: 3,
        timestamp: 1_700_000_000_000 + pick(1_000_000),
      },
    }
  })
}

async function exported(state: ReturnType<typeof createPinsetState>): Promise<string> {
  let text = ''
  for await (const line of exportState(state)) text += line
  return text
}

describe('PinsetState.bulkLoad', () => {
  // 6,000 pins: more than sortBinaryStrings sorts with the default sort.
  it.each([
    [1, 'add', 600],
    [2, 'add', 600],
    [3, 'add', 600],
    [1, 'addPin', 600],
    [2, 'addPin', 600],
    [3, 'addPin', 600],
    [4, 'addPin', 6_000],
  ] as const)(
    'leaves the state that applying the same pins in turn leaves (seed %i, %s, %i pins)',
    async (seed, method, count) => {
      const operations = pinOperations(seed, count)
      const applied = createPinsetState()
      applyAll(applied, ...operations)
      const loaded = createPinsetState()
      const load = loaded.bulkLoad()
      for (const operation of operations) {
        if (operation.type !== 'pin') continue
        if (method === 'add') load.add(encodeOperation(operation))
        else load.addPin(operation.pin)
      }
      load.finish()

      loaded.checkStructure()
      expect(loaded.count()).toBe(applied.count())
      expect(await exported(loaded)).toBe(await exported(applied))
      expect(await snapshotBytes(loaded)).toEqual(await snapshotBytes(applied))

      // Every peer reference the dropped duplicates took was given back: unpinning all leaves
      // no peer in the table.
      for (const operation of operations) {
        if (operation.type === 'pin') applyAll(loaded, { type: 'unpin', cid: operation.pin.cid })
      }
      expect(loaded.count()).toBe(0)
      loaded.checkStructure()
    },
  )

  it('keeps the first of equivalent pins and the last of different ones', async () => {
    const cid = cidOf(7)
    const state = createPinsetState()
    const stateLoad = state.bulkLoad()
    const pins: Operation[] = [
      { type: 'pin', pin: { cid, name: 'a', timestamp: 1_000 } },
      { type: 'pin', pin: { cid, name: 'a', timestamp: 2_000 } },
      { type: 'pin', pin: { cid: cidOf(8), name: 'other', timestamp: 3_000 } },
    ]
    for (const operation of pins) stateLoad.add(encodeOperation(operation))
    stateLoad.finish()
    expect(state.get(cid)?.timestamp).toBe(1_000)

    const changed = createPinsetState()
    const changedLoad = changed.bulkLoad()
    for (const operation of [
      ...pins,
      { type: 'pin' as const, pin: { cid, name: 'b', timestamp: 4_000 } },
    ]) {
      changedLoad.add(encodeOperation(operation))
    }
    changedLoad.finish()
    expect(changed.get(cid)?.name).toBe('b')
    expect(changed.get(cid)?.timestamp).toBe(4_000)
    expect(changed.count()).toBe(2)
    changed.checkStructure()
  })

  it('refuses a state that holds pins, operations other than plain pins, invalid pins, and adds after finish', () => {
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: cidOf(1) } })
    expect(() => state.bulkLoad()).toThrow(/empty pinset/)

    const load = createPinsetState().bulkLoad()
    expect(() => load.add(encodeOperation({ type: 'unpin', cid: cidOf(1) }))).toThrow(
      /pin operations without a request id/,
    )
    expect(() =>
      load.add(encodeOperation({ type: 'pin', pin: { cid: cidOf(1) }, requestId: 'r1' })),
    ).toThrow(/pin operations without a request id/)
    expect(() => load.addPin({ cid: cidOf(1), maxDepth: 0, mode: 'recursive' })).toThrow(
      InvalidPinError,
    )
    expect(() => load.addPin({ cid: 'not a CID' })).toThrow(/not a valid CID/)
    load.finish()
    expect(() => load.add(encodeOperation({ type: 'pin', pin: { cid: cidOf(2) } }))).toThrow(
      /finished/,
    )
    expect(() => load.addPin({ cid: cidOf(2) })).toThrow(/finished/)

    // A pin applied meanwhile would leave the appended records out of order.
    const busy = createPinsetState()
    const busyLoad = busy.bulkLoad()
    busyLoad.add(encodeOperation({ type: 'pin', pin: { cid: cidOf(3) } }))
    applyAll(busy, { type: 'pin', pin: { cid: cidOf(4) } })
    expect(() => busyLoad.finish()).toThrow(/changed during its bulk load/)
  })
})
