import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CompletedOperation, PinValue } from '../src/history.ts'
import {
  checkLinearizability,
  cidSearchCalls,
  type LocalReads,
  pinRegister,
} from '../src/linearizability.ts'
import { bruteForceLinearizable } from './support/brute-force.ts'
import { localRead, op, read } from './support/operations.ts'
import { shapedHistory } from './support/shaped-history.ts'

const verdict = (history: CompletedOperation[], localReads: LocalReads = 'monotonic') =>
  checkLinearizability(history, { localReads }).verdict

const peers = ['peer-1', 'peer-2', 'peer-3', 'peer-4', 'peer-5']

describe('the two cases the old verdict accepted', () => {
  it('rejects an acknowledged pin followed by 50 consistent reads of unpinned on every peer', () => {
    const history = [op('pin', 'a', 0, 10)]
    for (let index = 0; index < 50; index++)
      for (const [position, node] of peers.entries())
        history.push(
          read('a', 20 + index * 10 + position, 25 + index * 10 + position, 'unpinned', node),
        )
    expect(verdict(history, 'ignored')).toBe('violation')
    expect(verdict(history, 'monotonic')).toBe('violation')
  })

  it('rejects a read of pinned before any pin was sent, local or consistent', () => {
    for (const reading of [read, localRead]) {
      const history = [reading('a', 0, 5, 'pinned', 'peer-2'), op('pin', 'a', 10, 20)]
      expect(verdict(history, 'ignored')).toBe(reading === read ? 'violation' : 'linearizable')
      expect(verdict(history, 'monotonic')).toBe('violation')
      expect(verdict(history, 'stale')).toBe('violation')
    }
  })

  it('lets 50 local reads of unpinned on every peer lag behind an acknowledged pin', () => {
    // What a peer's own state promises: it may lag. The final-state check then requires the pin.
    const history = [op('pin', 'a', 0, 10)]
    for (let index = 0; index < 50; index++)
      for (const [position, node] of peers.entries())
        history.push(
          localRead('a', 20 + index * 10 + position, 25 + index * 10 + position, 'unpinned', node),
        )
    expect(verdict(history, 'monotonic')).toBe('linearizable')
    expect(verdict(history, 'linearizable')).toBe('violation')
  })
})

describe('writes and consistent reads: linearizable', () => {
  it('accepts an empty history', () => {
    expect(verdict([])).toBe('linearizable')
  })

  it('accepts sequential pin, read, unpin, read', () => {
    const history = [
      op('pin', 'a', 0, 10),
      read('a', 20, 30, 'pinned'),
      op('unpin', 'a', 40, 50, { value: 'unpinned' }),
      read('a', 60, 70, 'unpinned'),
    ]
    expect(verdict(history)).toBe('linearizable')
  })

  it('accepts a read concurrent with a pin seeing either value', () => {
    for (const value of ['pinned', 'unpinned'] as const) {
      expect(verdict([op('pin', 'a', 0, 100), read('a', 10, 20, value)])).toBe('linearizable')
    }
  })

  it('accepts concurrent pin and unpin in either order when later reads agree with one', () => {
    for (const value of ['pinned', 'unpinned'] as const) {
      const history = [
        op('pin', 'a', 0, 50),
        op('unpin', 'a', 10, 60, { value: 'unpinned' }),
        read('a', 70, 80, value),
      ]
      expect(verdict(history)).toBe('linearizable')
    }
  })

  it('lets an unknown pin take effect long after its client gave up, or never', () => {
    expect(
      verdict([
        op('pin', 'a', 0, 10, { outcome: 'unknown' }),
        read('a', 20, 30, 'unpinned'),
        read('a', 40, 50, 'pinned'),
      ]),
    ).toBe('linearizable')
    expect(
      verdict([op('pin', 'a', 0, 10, { outcome: 'unknown' }), read('a', 20, 30, 'unpinned')]),
    ).toBe('linearizable')
  })

  it('ignores a read that got no answer', () => {
    expect(
      verdict([
        op('pin', 'a', 0, 10),
        op('read', 'a', 20, 30, { outcome: 'unknown', consistency: 'consistent' }),
        op('read', 'a', 20, 30, { outcome: 'fail', consistency: 'consistent' }),
      ]),
    ).toBe('linearizable')
  })

  it('rejects a stale consistent read after an acknowledged pin, naming the order it found', () => {
    const result = checkLinearizability([
      op('pin', 'a', 0, 10, { id: 1 }),
      read('a', 20, 30, 'unpinned'),
    ])
    expect(result.verdict).toBe('violation')
    const cid = result.cids[0]!
    expect(cid.verdict).toBe('violation')
    if (cid.verdict === 'violation') expect(cid.linearizedPrefix).toEqual([1])
  })

  it('rejects a lost acknowledged pin seen by a later read', () => {
    const history = [
      op('pin', 'a', 0, 10),
      read('a', 20, 30, 'pinned'),
      read('a', 40, 50, 'unpinned'),
    ]
    expect(verdict(history)).toBe('violation')
  })

  it('rejects a read that sees a pin before an unknown pin was invoked', () => {
    const history = [read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20, { outcome: 'unknown' })]
    expect(verdict(history)).toBe('violation')
  })

  it('rejects a failed pin that took effect', () => {
    const history = [op('pin', 'a', 0, 10, { outcome: 'fail' }), read('a', 20, 30, 'pinned')]
    expect(verdict(history)).toBe('violation')
  })

  it('rejects a read that goes back to a value overwritten before it began', () => {
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 20, 30, { value: 'unpinned' }),
      read('a', 40, 50, 'pinned'),
    ]
    expect(verdict(history)).toBe('violation')
  })

  it('rejects reads that see a concurrent pin and then not see it', () => {
    const history = [
      op('pin', 'a', 0, 100),
      read('a', 10, 20, 'pinned'),
      read('a', 30, 40, 'unpinned'),
    ]
    expect(verdict(history)).toBe('violation')
  })

  it('rejects reads that disagree on the order of two concurrent writes', () => {
    const history = [
      op('pin', 'a', 0, 50),
      op('unpin', 'a', 0, 50, { value: 'unpinned' }),
      read('a', 60, 70, 'pinned'),
      read('a', 80, 90, 'unpinned'),
    ]
    expect(verdict(history)).toBe('violation')
  })

  it('leaves local reads out of the headline verdict', () => {
    const history = [op('pin', 'a', 0, 10), localRead('a', 20, 30, 'unpinned')]
    expect(verdict(history, 'ignored')).toBe('linearizable')
    expect(checkLinearizability(history, { localReads: 'ignored' }).cids[0]!.operations).toBe(1)
  })
})

describe('local reads: per peer, never back in time', () => {
  it('rejects a peer whose reads go back: pinned, then unpinned with no unpin', () => {
    const history = [
      op('pin', 'a', 0, 10),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-2'),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
    // Each read on its own fits some earlier instant: only the per-peer order rejects it.
    expect(verdict(history, 'stale')).toBe('linearizable')
  })

  it('accepts the same two reads on two different peers (one lags)', () => {
    const history = [
      op('pin', 'a', 0, 10),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-3'),
    ]
    expect(verdict(history, 'monotonic')).toBe('linearizable')
  })

  it('accepts overlapping reads of one peer in either order', () => {
    const history = [
      op('pin', 'a', 0, 10),
      localRead('a', 20, 50, 'pinned', 'peer-2'),
      localRead('a', 30, 60, 'unpinned', 'peer-2'),
    ]
    expect(verdict(history, 'monotonic')).toBe('linearizable')
  })

  it('rejects a local read older than a consistent read the same peer answered before', () => {
    const history = [
      op('pin', 'a', 0, 10),
      read('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-2'),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
    expect(verdict(history, 'ignored')).toBe('linearizable')
  })

  it('rejects a 404 unpin older than what the same peer read before', () => {
    const history = [
      op('pin', 'a', 0, 10),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      op('unpin', 'a', 40, 50, { value: 'absent', node: 'peer-2' }),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
  })

  it('accepts a 404 unpin on a lagging peer after an acknowledged pin', () => {
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 20, 30, { value: 'absent', node: 'peer-3' }),
    ]
    expect(verdict(history, 'monotonic')).toBe('linearizable')
    expect(verdict(history, 'linearizable')).toBe('violation')
  })

  it('rejects a peer that goes pinned, unpinned, pinned over one pin and one unpin', () => {
    // Whatever order the two writes took, the register holds pinned at most once after unpinned.
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 0, 10, { value: 'unpinned' }),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-2'),
      localRead('a', 60, 70, 'pinned', 'peer-2'),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
  })

  it('rejects peers that disagree with a consistent read on the order of two writes', () => {
    // peer-2 saw pinned then unpinned: pin before unpin. A consistent read after both says
    // pinned: unpin before pin. No single order of writes explains both.
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 0, 10, { value: 'unpinned' }),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-2'),
      read('a', 60, 70, 'pinned', 'peer-4'),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
    expect(verdict(history, 'ignored')).toBe('linearizable')
  })

  it('rejects a local read of a pin whose only request failed', () => {
    const history = [
      op('unpin', 'a', 0, 10, { value: 'unpinned' }),
      op('pin', 'a', 20, 30, { outcome: 'fail' }),
      localRead('a', 40, 50, 'pinned'),
    ]
    expect(verdict(history, 'monotonic')).toBe('violation')
  })
})

describe('per-CID partitioning', () => {
  it('reports the violating CID and accepts the others', () => {
    const history = [
      op('pin', 'a', 0, 10),
      read('a', 20, 30, 'pinned'),
      op('pin', 'b', 0, 10),
      read('b', 20, 30, 'unpinned'),
    ]
    const result = checkLinearizability(history)
    expect(result.verdict).toBe('violation')
    const byCid = Object.fromEntries(result.cids.map((entry) => [entry.cid, entry.verdict]))
    expect(byCid).toEqual({ a: 'linearizable', b: 'violation' })
  })
})

describe('search budget', () => {
  it('decides many concurrent reads within a small budget', () => {
    // Reads do not change the state: each is placed as soon as it fits, so the search does not
    // try every subset of them.
    const history: CompletedOperation[] = [
      op('pin', 'a', 0, 1000),
      op('unpin', 'a', 0, 1000, { value: 'unpinned' }),
    ]
    for (let index = 0; index < 60; index++) {
      const value = index % 2 === 0 ? 'pinned' : 'unpinned'
      history.push(
        read('a', 10 + index, 2000, value),
        localRead('a', 10 + index, 2000, value, peers[index % 5]),
      )
    }
    history.push(read('a', 3000, 3010, 'unpinned'))
    expect(checkLinearizability(history, { maxSteps: 20_000 }).verdict).toBe('linearizable')
  })

  it('decides a CI-sized history, some consistent reads made stale, in few steps per call', () => {
    // 20,000 calls of 6 concurrent clients, 30 per CID, as in the CI profile; every 50th
    // consistent read flipped. Steps, not time: the memo keeps the search near-linear.
    const history = shapedHistory(20_000, 6, 30, 3).map((operation, index) =>
      operation.kind === 'read' && operation.consistency === 'consistent' && index % 50 === 0
        ? {
            ...operation,
            value: operation.value === 'pinned' ? ('unpinned' as const) : ('pinned' as const),
          }
        : operation,
    )
    for (const localReads of ['ignored', 'monotonic'] as const) {
      const result = checkLinearizability(history, { localReads })
      const steps = result.cids.reduce((total, entry) => total + entry.steps, 0)
      expect(result.cids.filter((entry) => entry.verdict === 'violation').length).toBeGreaterThan(2)
      expect(result.cids.every((entry) => entry.verdict !== 'unknown')).toBe(true)
      expect(steps).toBeLessThan(history.length * 50)
    }
  })

  it('reports unknown instead of searching past the budget', () => {
    const history: CompletedOperation[] = []
    for (let index = 0; index < 12; index++) {
      history.push(
        op(index % 2 === 0 ? 'pin' : 'unpin', 'a', 0, 100, {
          value: index % 2 === 0 ? undefined : 'unpinned',
        }),
      )
    }
    history.push(
      read('a', 0, 100, 'pinned'),
      read('a', 0, 100, 'unpinned'),
      read('a', 200, 210, 'pinned'),
    )
    history.push(
      op('pin', 'a', 300, 310, { outcome: 'fail' }),
      read('a', 320, 330, 'unpinned'),
      read('a', 340, 350, 'pinned'),
    )
    const result = checkLinearizability(history, { maxSteps: 50 })
    expect(result.verdict).toBe('unknown')
    const cid = result.cids[0]!
    expect(cid.verdict === 'unknown' && cid.reason).toMatch(/budget of 50/)
    expect(checkLinearizability(history).verdict).toBe('violation')
  })
})

/**
 * A correct cluster: writes take effect at strictly increasing instants; each peer applies them
 * in that order with its own lag that never shrinks (its applied count only grows); a local read
 * returns its peer's state at an instant inside the read's window, a consistent read the
 * cluster's. Some writes lose their answer (unknown) or fail without taking effect.
 */
const correctCluster = fc
  .array(
    fc.record({
      kind: fc.constantFrom('pin', 'unpin', 'read', 'local-read' as const),
      cid: fc.constantFrom('a', 'b', 'c'),
      node: fc.nat(2),
      before: fc.nat(60),
      after: fc.nat(60),
      catchUp: fc.constantFrom(0, 0, 1, 2),
      fate: fc.constantFrom('ok', 'ok', 'ok', 'unknown-applied', 'unknown-lost', 'fail' as const),
    }),
    { maxLength: 50 },
  )
  .map((steps) => {
    // The log of writes (per CID value after each), and each peer's applied count.
    const log: { cid: string; value: PinValue }[] = []
    const applied = [0, 0, 0]
    const valueAt = (cid: string, count: number): PinValue =>
      log.slice(0, count).findLast((entry) => entry.cid === cid)?.value ?? 'unpinned'
    return steps.map((step, index): CompletedOperation => {
      const point = (index + 1) * 100
      const node = `peer-${step.node}`
      applied[step.node] = Math.min(log.length, applied[step.node]! + step.catchUp)
      const base = {
        id: index,
        process: index,
        cid: step.cid,
        node,
        invokedAt: point - step.before,
        completedAt: point + step.after,
      }
      if (step.kind === 'read') {
        // A consistent read waits until its peer has applied up to the read index.
        applied[step.node] = log.length
        return {
          ...base,
          kind: 'read',
          consistency: 'consistent',
          outcome: 'ok',
          value: valueAt(step.cid, log.length),
        }
      }
      if (step.kind === 'local-read')
        return {
          ...base,
          kind: 'read',
          consistency: 'local',
          outcome: 'ok',
          value: valueAt(step.cid, applied[step.node]!),
        }
      // DELETE checks the peer's own state first: a 404 when it does not hold the pin.
      if (step.kind === 'unpin' && valueAt(step.cid, applied[step.node]!) === 'unpinned')
        return { ...base, kind: 'unpin', outcome: 'ok', value: 'absent' }
      const outcome = step.fate === 'ok' ? 'ok' : step.fate === 'fail' ? 'fail' : 'unknown'
      if (step.fate === 'ok' || step.fate === 'unknown-applied')
        log.push({ cid: step.cid, value: step.kind === 'pin' ? 'pinned' : 'unpinned' })
      return {
        ...base,
        kind: step.kind,
        outcome,
        ...(step.kind === 'unpin' && outcome === 'ok' ? { value: 'unpinned' } : {}),
      }
    })
  })

describe('properties', () => {
  it('accepts every history of a correct cluster whose peers lag', () => {
    let lagged = 0
    fc.assert(
      fc.property(correctCluster, (history) => {
        expect(verdict(history, 'ignored')).toBe('linearizable')
        expect(verdict(history, 'monotonic')).toBe('linearizable')
        expect(verdict(history, 'stale')).toBe('linearizable')
        if (verdict(history, 'linearizable') === 'violation') lagged += 1
      }),
      { numRuns: 1_000 },
    )
    // The generator does produce lagging local reads: strict local reads reject some.
    expect(lagged).toBeGreaterThan(20)
  })

  it('rejects a non-overlapping history with one read changed', () => {
    const sequential = fc
      .array(fc.constantFrom('pin', 'unpin', 'read' as const), { minLength: 1, maxLength: 30 })
      .chain((kinds) => fc.tuple(fc.constant(kinds), fc.nat(kinds.length - 1)))
    fc.assert(
      fc.property(sequential, ([kinds, chosen]) => {
        let state = 'unpinned' as PinValue
        const history = kinds.map((kind, index): CompletedOperation => {
          const base = {
            id: index,
            process: 0,
            cid: 'a',
            node: 'peer-0',
            invokedAt: index * 10,
            completedAt: index * 10 + 5,
            outcome: 'ok' as const,
          }
          if (kind === 'pin') {
            state = 'pinned'
            return { ...base, kind }
          }
          if (kind === 'unpin') {
            const value = state === 'pinned' ? 'unpinned' : 'absent'
            state = 'unpinned'
            return { ...base, kind, value }
          }
          return { ...base, kind, consistency: 'consistent', value: state }
        })
        const target = history[chosen]!
        if (target.kind === 'read') {
          history[chosen] = { ...target, value: target.value === 'pinned' ? 'unpinned' : 'pinned' }
        } else {
          history.push({
            ...history[0]!,
            id: history.length,
            kind: 'read',
            consistency: 'consistent',
            invokedAt: 1000,
            completedAt: 1005,
            value: state === 'pinned' ? 'unpinned' : 'pinned',
          })
        }
        expect(verdict(history, 'ignored')).toBe('violation')
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with an exhaustive search of every order on small random histories of two peers', () => {
    const seen = { linearizable: 0, violation: 0 }
    const call = fc.record({
      kind: fc.constantFrom('pin', 'unpin', 'absent', 'read', 'local-read' as const),
      value: fc.constantFrom('pinned', 'unpinned' as const),
      node: fc.constantFrom('peer-1', 'peer-2'),
      invokedAt: fc.nat(60),
      length: fc.nat(30),
      outcome: fc.constantFrom('ok', 'ok', 'ok', 'unknown', 'fail' as const),
    })
    fc.assert(
      fc.property(fc.array(call, { maxLength: 7 }), (calls) => {
        const history = calls.map((entry, id): CompletedOperation => {
          const base = {
            id,
            process: id,
            cid: 'a',
            node: entry.node,
            invokedAt: entry.invokedAt,
            completedAt: entry.invokedAt + entry.length,
            outcome: entry.outcome,
          }
          if (entry.kind === 'read' || entry.kind === 'local-read')
            return {
              ...base,
              kind: 'read',
              consistency: entry.kind === 'read' ? 'consistent' : 'local',
              value: entry.value,
            }
          if (entry.kind === 'absent')
            return { ...base, kind: 'unpin', outcome: 'ok', value: 'absent' }
          return {
            ...base,
            kind: entry.kind,
            ...(entry.kind === 'unpin' ? { value: 'unpinned' } : {}),
          }
        })
        for (const localReads of ['monotonic', 'stale', 'linearizable', 'ignored'] as const) {
          const expected = bruteForceLinearizable(cidSearchCalls(history, localReads), pinRegister)
          const found = verdict(history, localReads)
          expect(found).toBe(expected ? 'linearizable' : 'violation')
          if (localReads === 'monotonic') seen[found as 'linearizable' | 'violation'] += 1
        }
      }),
      { numRuns: 2_000 },
    )
    expect(seen.linearizable).toBeGreaterThan(300)
    expect(seen.violation).toBeGreaterThan(300)
  })
})
