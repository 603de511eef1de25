import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { searchLinearization } from '../src/search.ts'
import { bruteForceLinearizable } from './support/brute-force.ts'
import {
  cas,
  casRegister,
  type JepsenCall,
  type JepsenType,
  type RegisterOperation,
  r,
  toSearchCalls,
  w,
} from './support/cas-register.ts'

const verdict = (history: readonly JepsenCall[], maxSteps = 1_000_000) =>
  searchLinearization(toSearchCalls(history), casRegister, { maxSteps }).verdict

// Each history comes with the reason for its verdict: for a linearizable one an order that
// fits, for a non-linearizable one why no order can.
const linearizable: readonly [string, JepsenCall[]][] = [
  ['the empty history', []],
  ['a read of the initial value', [r(null, 0, 10)]],
  ['a write, then a read of it', [w(1, 0, 10), r(1, 20, 30)]],
  [
    'a read concurrent with a write seeing the old value (read, write)',
    [w(1, 0, 10), r(null, 5, 15)],
  ],
  ['a read concurrent with a write seeing the new value (write, read)', [w(1, 0, 10), r(1, 5, 15)]],
  [
    'two concurrent writes, the second-invoked first (w2, w1, read)',
    [w(1, 5, 15), w(2, 0, 10), r(1, 20, 30)],
  ],
  [
    'two concurrent writes, the first-invoked first (w1, w2, read)',
    [w(1, 0, 10), w(2, 5, 15), r(2, 20, 30)],
  ],
  [
    'reads during a long write see old then new (r, w, r)',
    [w(1, 0, 100), r(null, 10, 20), r(1, 30, 40)],
  ],
  [
    'a chain of compare-and-sets',
    [w(0, 0, 10), cas(0, 1, 20, 30), cas(1, 2, 40, 50), r(2, 60, 70)],
  ],
  [
    'two concurrent compare-and-sets, one failed (w0, cas 0→1, read)',
    [w(0, 0, 10), cas(0, 1, 20, 40), cas(0, 2, 25, 45, 'fail'), r(1, 50, 60)],
  ],
  [
    'two concurrent compare-and-sets that both succeed in turn (cas 0→1, cas 1→2)',
    [w(0, 0, 10), cas(1, 2, 20, 40), cas(0, 1, 25, 45), r(2, 50, 60)],
  ],
  [
    'an unanswered write that takes effect late (read null, write, read 1)',
    [w(1, 0, 10, 'info'), r(null, 20, 30), r(1, 40, 50)],
  ],
  [
    'an unanswered write that never takes effect',
    [w(1, 0, 10, 'info'), r(null, 20, 30), r(null, 40, 50)],
  ],
  [
    'an unanswered compare-and-set that took effect',
    [w(1, 0, 10), cas(1, 2, 20, 30, 'info'), r(2, 40, 50)],
  ],
  ['a failed write is never seen', [w(1, 0, 10, 'fail'), r(null, 20, 30)]],
  ['an unanswered read says nothing', [w(1, 0, 10), r(7, 20, 30, 'info')]],
  ['a failed read says nothing', [w(1, 0, 10), r(7, 20, 30, 'fail')]],
  [
    'the same value written twice, reads in between',
    [w(1, 0, 10), r(1, 20, 30), w(1, 40, 50), r(1, 60, 70)],
  ],
  [
    'three writers and three readers overlapping (w1, r1, w2, r2, w3, r3)',
    [w(1, 0, 30), w(2, 10, 50), w(3, 20, 70), r(1, 25, 35), r(2, 45, 55), r(3, 65, 80)],
  ],
  ['reads that touch at equal times count as concurrent', [w(1, 0, 10), r(null, 10, 20)]],
  [
    'a read spanning the whole history may see any value written',
    [r(2, 0, 100), w(1, 10, 20), w(2, 30, 40), w(3, 50, 60)],
  ],
  [
    'a compare-and-set from an unanswered write',
    [w(4, 0, 10, 'info'), cas(4, 0, 20, 30), r(0, 40, 50)],
  ],
]

const nonLinearizable: readonly [string, JepsenCall[]][] = [
  [
    'a stale read: a write completed, then the initial value is read',
    [w(1, 0, 10), r(null, 20, 30)],
  ],
  [
    'a lost write: read 1 after write 2 completed after write 1',
    [w(1, 0, 10), w(2, 20, 30), r(1, 40, 50)],
  ],
  ['a read from the future: 1 read before write 1 was invoked', [r(1, 0, 5), w(1, 10, 20)]],
  ['a value never written', [w(1, 0, 10), r(3, 20, 30)]],
  ['a failed write is seen', [w(1, 0, 10, 'fail'), r(1, 20, 30)]],
  [
    'a read goes back during a long write (r 1, then r null)',
    [w(1, 0, 100), r(1, 10, 20), r(null, 30, 40)],
  ],
  [
    'reads flip-flop between two concurrent writes (1, 2, 1 after both completed)',
    [w(1, 0, 50), w(2, 0, 50), r(1, 60, 70), r(2, 80, 90), r(1, 100, 110)],
  ],
  [
    'two concurrent reads after both writes disagree on the final value',
    [w(1, 0, 50), w(2, 0, 50), r(1, 60, 70), r(2, 60, 70)],
  ],
  ['a compare-and-set from a value the register does not hold', [w(1, 0, 10), cas(2, 3, 20, 30)]],
  [
    'two compare-and-sets from 0 both succeed with no write of 0 between',
    [w(0, 0, 10), cas(0, 1, 20, 40), cas(0, 2, 20, 40)],
  ],
  ['a completed compare-and-set is not seen', [w(1, 0, 10), cas(1, 2, 20, 30), r(1, 40, 50)]],
  ['an unanswered write seen before it was invoked', [r(3, 0, 5), w(3, 10, 20, 'info')]],
  [
    'an unanswered write seen, then not, with nothing between',
    [w(1, 0, 10, 'info'), r(1, 20, 30), r(null, 40, 50)],
  ],
  ['a failed compare-and-set takes effect', [w(0, 0, 10), cas(0, 1, 20, 30, 'fail'), r(1, 40, 50)]],
  [
    'the register goes back to an overwritten value',
    [w(1, 0, 10), w(2, 20, 30), w(3, 40, 50), r(2, 60, 70)],
  ],
  [
    'a read sees the initial value after a compare-and-set chain completed',
    [w(0, 0, 10), cas(0, 1, 20, 30), r(null, 40, 50)],
  ],
  [
    'concurrent processes: a read sees 2, a later read sees 1 with no write of 1 after 2',
    [w(1, 0, 10), w(2, 5, 15), r(2, 20, 25), r(1, 30, 35)],
  ],
  [
    'a write seen inside its window by one reader, and the old value after it completed',
    [w(1, 0, 20), r(1, 5, 10), r(null, 25, 30)],
  ],
]

describe("Jepsen's cas-register histories with known verdicts", () => {
  it.each(linearizable)('accepts %s', (_name, history) => {
    expect(verdict(history)).toBe('linearizable')
    expect(bruteForceLinearizable(toSearchCalls(history), casRegister)).toBe(true)
  })

  it.each(nonLinearizable)('rejects %s', (_name, history) => {
    expect(verdict(history)).toBe('violation')
    expect(bruteForceLinearizable(toSearchCalls(history), casRegister)).toBe(false)
  })
})

/** A sequential execution: strictly increasing linearization points, each call given a window around its point. */
const correctExecution = fc
  .array(
    fc.record({
      f: fc.constantFrom('read', 'write', 'cas' as const),
      value: fc.integer({ min: 0, max: 3 }),
      from: fc.integer({ min: 0, max: 3 }),
      before: fc.nat(30),
      after: fc.nat(30),
      fate: fc.constantFrom('ok', 'ok', 'ok', 'info-applied', 'info-lost', 'fail' as const),
    }),
    { maxLength: 60 },
  )
  .map((steps) => {
    let state: number | null = null
    return steps.map((step, index): JepsenCall => {
      const point = (index + 1) * 10
      const base = {
        process: index,
        invokedAt: point - step.before,
        completedAt: point + step.after,
      }
      if (step.f === 'read') {
        const type: JepsenType = step.fate === 'ok' ? 'ok' : 'info'
        return {
          ...base,
          type,
          operation: { f: 'read', value: type === 'ok' ? state : step.value },
        }
      }
      const operation: RegisterOperation =
        step.f === 'write'
          ? { f: 'write', value: step.value }
          : { f: 'cas', from: step.from, to: step.value }
      const possible = step.f === 'write' || state === step.from
      // A compare-and-set whose condition is false is what Jepsen records as failed.
      if (!possible) return { ...base, type: 'fail', operation }
      const applies = step.fate === 'ok' || step.fate === 'info-applied'
      if (applies) state = step.value
      const type: JepsenType = step.fate === 'ok' ? 'ok' : step.fate === 'fail' ? 'fail' : 'info'
      return { ...base, type, operation }
    })
  })

/** Non-overlapping calls, all acknowledged: only one order is possible. */
const sequentialExecution = fc
  .array(
    fc.record({
      f: fc.constantFrom('read', 'write', 'cas' as const),
      value: fc.integer({ min: 0, max: 3 }),
      from: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((steps) => {
    let state: number | null = null
    const history = steps.map((step, index): JepsenCall => {
      const base = {
        process: 0,
        invokedAt: index * 10,
        completedAt: index * 10 + 5,
        type: 'ok' as const,
      }
      if (step.f === 'read') return { ...base, operation: { f: 'read', value: state } }
      if (step.f === 'write') {
        state = step.value
        return { ...base, operation: { f: 'write', value: step.value } }
      }
      // Only compare-and-sets that succeed, so that the corruption below is the only wrong call.
      const from = state ?? step.from
      if (state === null) {
        state = from
        return { ...base, operation: { f: 'write', value: from } }
      }
      state = step.value
      return { ...base, operation: { f: 'cas', from, to: step.value } }
    })
    return { history, final: state }
  })

describe('generated histories with provable verdicts', () => {
  it('accepts every history generated from a correct sequential execution', () => {
    fc.assert(
      fc.property(correctExecution, (history) => {
        expect(verdict(history)).toBe('linearizable')
      }),
      { numRuns: 500 },
    )
  })

  it('rejects a sequential history with one read or compare-and-set made wrong', () => {
    fc.assert(
      fc.property(
        sequentialExecution.chain(({ history, final }) =>
          fc.tuple(fc.constant(history), fc.constant(final), fc.nat(history.length)),
        ),
        ([history, final, chosen]) => {
          const corrupted = [...history]
          const target = corrupted[chosen]
          if (target?.operation.f === 'read') {
            const seen = target.operation.value
            corrupted[chosen] = {
              ...target,
              operation: { f: 'read', value: seen === null ? 9 : seen + 1 },
            }
          } else if (target?.operation.f === 'cas') {
            const { from, to } = target.operation
            corrupted[chosen] = { ...target, operation: { f: 'cas', from: from + 1, to } }
          } else {
            // A write (or past the end): append a read of a value the register does not hold.
            corrupted.push({
              process: 0,
              type: 'ok',
              operation: { f: 'read', value: final === null ? 9 : final + 1 },
              invokedAt: 10_000,
              completedAt: 10_005,
            })
          }
          expect(verdict(corrupted)).toBe('violation')
        },
      ),
      { numRuns: 500 },
    )
  })

  it('agrees with an exhaustive search of every order on small random histories', () => {
    let seen = { linearizable: 0, violation: 0 }
    const call = fc.record({
      f: fc.constantFrom('read', 'write', 'cas' as const),
      value: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      from: fc.integer({ min: 0, max: 2 }),
      invokedAt: fc.nat(60),
      length: fc.nat(40),
      type: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'info', 'fail' as const),
    })
    fc.assert(
      fc.property(fc.array(call, { maxLength: 7 }), (calls) => {
        const history: JepsenCall[] = calls.map((entry, index) => ({
          process: index,
          type: entry.type,
          invokedAt: entry.invokedAt,
          completedAt: entry.invokedAt + entry.length,
          operation:
            entry.f === 'read'
              ? { f: 'read', value: entry.value }
              : entry.f === 'write'
                ? { f: 'write', value: entry.value ?? 0 }
                : { f: 'cas', from: entry.from, to: entry.value ?? 0 },
        }))
        const expected = bruteForceLinearizable(toSearchCalls(history), casRegister)
        const found = verdict(history)
        expect(found).toBe(expected ? 'linearizable' : 'violation')
        seen = { ...seen, [found]: seen[found as 'linearizable' | 'violation'] + 1 }
      }),
      { numRuns: 2_000 },
    )
    // Both verdicts must be well represented, or the comparison proves little.
    expect(seen.linearizable).toBeGreaterThan(300)
    expect(seen.violation).toBeGreaterThan(300)
  })
})

describe('search cost', () => {
  it('decides many concurrent writes and a contradiction within a bounded number of steps', () => {
    // 14 concurrent writes of 0..13 and a read that no order can explain: without the memo of
    // (linearized set, state) the search would try 14! orders.
    const history: JepsenCall[] = []
    for (let value = 0; value < 14; value++) history.push(w(value, 0, 100))
    history.push(r(5, 110, 120), r(6, 130, 140))
    const result = searchLinearization(toSearchCalls(history), casRegister, { maxSteps: 5_000_000 })
    expect(result.verdict).toBe('violation')
    expect(result.steps).toBeLessThan(2_000_000)
  })

  it('reports unknown, never a pass, past its budget', () => {
    const history: JepsenCall[] = []
    for (let value = 0; value < 14; value++) history.push(w(value, 0, 100))
    history.push(r(5, 110, 120), r(6, 130, 140))
    const result = searchLinearization(toSearchCalls(history), casRegister, { maxSteps: 100 })
    expect(result.verdict).toBe('unknown')
  })
})
