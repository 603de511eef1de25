import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CompletedOperation, PinValue } from '../src/history.ts'
import { checkLinearizability } from '../src/linearizability.ts'
import { op, read } from './support/operations.ts'

const verdict = (history: CompletedOperation[], reads: 'linearizable' | 'stale' = 'linearizable') =>
  checkLinearizability(history, { reads }).verdict

describe('known-good histories', () => {
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
    const pinThenUnpin = [
      op('pin', 'a', 0, 50),
      op('unpin', 'a', 10, 60, { value: 'unpinned' }),
      read('a', 70, 80, 'unpinned'),
    ]
    const unpinThenPin = [
      op('pin', 'a', 0, 50),
      op('unpin', 'a', 10, 60, { value: 'unpinned' }),
      read('a', 70, 80, 'pinned'),
    ]
    expect(verdict(pinThenUnpin)).toBe('linearizable')
    expect(verdict(unpinThenPin)).toBe('linearizable')
  })

  it('lets an unknown pin take effect long after its client gave up', () => {
    const history = [
      op('pin', 'a', 0, 10, { outcome: 'unknown' }),
      read('a', 20, 30, 'unpinned'),
      read('a', 40, 50, 'pinned'),
    ]
    expect(verdict(history)).toBe('linearizable')
  })

  it('lets an unknown pin never take effect', () => {
    expect(
      verdict([op('pin', 'a', 0, 10, { outcome: 'unknown' }), read('a', 20, 30, 'unpinned')]),
    ).toBe('linearizable')
  })

  it('ignores a read that got no answer', () => {
    expect(
      verdict([
        op('read', 'a', 0, 10, { outcome: 'unknown' }),
        op('read', 'a', 0, 10, { outcome: 'fail' }),
      ]),
    ).toBe('linearizable')
  })

  it('treats a 404 unpin as a read of an absent pin', () => {
    const history = [
      op('unpin', 'a', 0, 10, { value: 'absent' }),
      op('pin', 'a', 20, 30),
      read('a', 40, 50, 'pinned'),
    ]
    expect(verdict(history)).toBe('linearizable')
  })
})

describe('known-bad histories', () => {
  it('rejects a stale read after an acknowledged pin', () => {
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

  it('rejects a read that sees a pin before the pin was requested', () => {
    const history = [read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20)]
    expect(verdict(history)).toBe('violation')
    expect(verdict(history, 'stale')).toBe('violation')
  })

  it('rejects a read that sees a pin before an unknown pin was invoked', () => {
    const history = [read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20, { outcome: 'unknown' })]
    expect(verdict(history, 'stale')).toBe('violation')
  })

  it('rejects a read of a pin that was never requested', () => {
    expect(verdict([read('a', 0, 5, 'pinned')], 'stale')).toBe('violation')
  })

  it('rejects a failed pin that took effect', () => {
    const history = [op('pin', 'a', 0, 10, { outcome: 'fail' }), read('a', 20, 30, 'pinned')]
    expect(verdict(history)).toBe('violation')
    expect(verdict(history, 'stale')).toBe('violation')
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

  it('rejects a 404 unpin after an acknowledged pin', () => {
    expect(verdict([op('pin', 'a', 0, 10), op('unpin', 'a', 20, 30, { value: 'absent' })])).toBe(
      'violation',
    )
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
})

describe('stale reads', () => {
  it('accepts a stale read after an acknowledged pin when reads may lag', () => {
    expect(verdict([op('pin', 'a', 0, 10), read('a', 20, 30, 'unpinned')], 'stale')).toBe(
      'linearizable',
    )
  })

  it('still requires a value from the single order of writes', () => {
    // The unpin completes before the pin starts: the register was never pinned after the pin
    // unless the pin took effect, and a pin that failed never did.
    const history = [
      op('unpin', 'a', 0, 10, { value: 'unpinned' }),
      op('pin', 'a', 20, 30, { outcome: 'fail' }),
      read('a', 40, 50, 'pinned'),
    ]
    expect(verdict(history, 'stale')).toBe('violation')
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
    for (let index = 0; index < 60; index++)
      history.push(read('a', 10 + index, 2000, index % 2 === 0 ? 'pinned' : 'unpinned'))
    history.push(read('a', 3000, 3010, 'unpinned'))
    expect(checkLinearizability(history, { maxSteps: 20_000 }).verdict).toBe('linearizable')
  })

  it('reports unknown instead of searching past the budget', () => {
    // Many concurrent writes and a contradicting read at the end: a full search is large.
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
 * A correct execution: operations with strictly increasing linearization points over a few CIDs,
 * each given a random window around its point; some writes lose their answer (unknown) or fail
 * without taking effect.
 */
const correctHistory = fc
  .array(
    fc.record({
      kind: fc.constantFrom('pin', 'unpin', 'read' as const),
      cid: fc.constantFrom('a', 'b', 'c'),
      before: fc.nat(40),
      after: fc.nat(40),
      fate: fc.constantFrom('ok', 'ok', 'ok', 'unknown-applied', 'unknown-lost', 'fail' as const),
    }),
    { maxLength: 40 },
  )
  .map((steps) => {
    const state = new Map<string, PinValue>()
    return steps.map((step, index): CompletedOperation => {
      const point = (index + 1) * 10
      const invokedAt = point - step.before
      const completedAt = point + step.after
      const current = state.get(step.cid) ?? 'unpinned'
      const base = {
        id: index,
        process: index,
        cid: step.cid,
        node: 'peer-0',
        invokedAt,
        completedAt,
      }
      if (step.kind === 'read') return { ...base, kind: 'read', outcome: 'ok', value: current }
      const applies = step.fate === 'ok' || step.fate === 'unknown-applied'
      const outcome = step.fate === 'ok' ? 'ok' : step.fate === 'fail' ? 'fail' : 'unknown'
      if (step.kind === 'unpin' && current === 'unpinned' && step.fate === 'ok') {
        return { ...base, kind: 'unpin', outcome, value: 'absent' }
      }
      if (applies) state.set(step.cid, step.kind === 'pin' ? 'pinned' : 'unpinned')
      return {
        ...base,
        kind: step.kind,
        outcome,
        ...(step.kind === 'unpin' && outcome === 'ok' ? { value: 'unpinned' } : {}),
      }
    })
  })

describe('properties', () => {
  it('accepts every history generated from a correct sequential execution', () => {
    fc.assert(
      fc.property(correctHistory, (history) => {
        expect(checkLinearizability(history).verdict).toBe('linearizable')
        expect(checkLinearizability(history, { reads: 'stale' }).verdict).toBe('linearizable')
      }),
      { numRuns: 300 },
    )
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
          return { ...base, kind, value: state }
        })
        // Corrupt the chosen operation, or a read appended at the end.
        const target = history[chosen]!
        const corrupted =
          target.kind === 'read'
            ? { ...target, value: target.value === 'pinned' ? 'unpinned' : 'pinned' }
            : undefined
        if (corrupted === undefined) {
          history.push({
            ...history[0]!,
            id: history.length,
            kind: 'read',
            invokedAt: 1000,
            completedAt: 1005,
            value: state === 'pinned' ? 'unpinned' : 'pinned',
          })
        } else {
          history[chosen] = corrupted as CompletedOperation
        }
        expect(checkLinearizability(history).verdict).toBe('violation')
      }),
      { numRuns: 300 },
    )
  })
})
