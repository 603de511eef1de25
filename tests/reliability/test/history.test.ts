import { describe, expect, it } from 'vitest'
import { countOutcomes, HistoryRecorder, partitionByCid, validateHistory } from '../src/history.ts'
import { op } from './support/operations.ts'

function manualClock(): { now: () => bigint; advance: (nanoseconds: number) => void } {
  let time = 1_000n
  return { now: () => time, advance: (nanoseconds) => (time += BigInt(nanoseconds)) }
}

describe('HistoryRecorder', () => {
  it('records invocation and completion times from the monotonic clock', () => {
    const clock = manualClock()
    const recorder = new HistoryRecorder({ now: clock.now })
    clock.advance(5)
    const id = recorder.invoke({ process: 0, kind: 'read', cid: 'a', node: 'peer-1' })
    clock.advance(20)
    recorder.complete(id, { outcome: 'ok', value: 'pinned' })
    expect(recorder.operations()).toEqual([
      {
        id: 0,
        process: 0,
        kind: 'read',
        cid: 'a',
        node: 'peer-1',
        invokedAt: 5,
        completedAt: 25,
        outcome: 'ok',
        value: 'pinned',
      },
    ])
  })

  it('closes calls still in flight as unknown', () => {
    const clock = manualClock()
    const recorder = new HistoryRecorder({ now: clock.now })
    recorder.invoke({ process: 0, kind: 'pin', cid: 'a', node: 'peer-1' })
    clock.advance(7)
    expect(recorder.operations()[0]).toMatchObject({
      outcome: 'unknown',
      completedAt: 7,
      detail: 'still in flight',
    })
  })

  it('refuses a second call from a process with one in flight', () => {
    const recorder = new HistoryRecorder()
    recorder.invoke({ process: 3, kind: 'pin', cid: 'a', node: 'peer-1' })
    expect(() => recorder.invoke({ process: 3, kind: 'pin', cid: 'b', node: 'peer-1' })).toThrow(
      expect.objectContaining({ name: 'InvalidHistoryError' }),
    )
  })

  it('refuses to complete a call twice', () => {
    const recorder = new HistoryRecorder()
    const id = recorder.invoke({ process: 0, kind: 'pin', cid: 'a', node: 'peer-1' })
    recorder.complete(id, { outcome: 'ok' })
    expect(() => recorder.complete(id, { outcome: 'ok' })).toThrow(
      expect.objectContaining({ name: 'InvalidHistoryError' }),
    )
  })
})

describe('validateHistory', () => {
  it('rejects a completion before the invocation', () => {
    expect(() => validateHistory([op('pin', 'a', 10, 5)])).toThrow(
      expect.objectContaining({ name: 'InvalidHistoryError' }),
    )
  })

  it('rejects an ok read without a value', () => {
    expect(() => validateHistory([op('read', 'a', 0, 5)])).toThrow(/must say what it saw/)
  })

  it('rejects a consistency on a call that is not a read', () => {
    expect(() => validateHistory([op('pin', 'a', 0, 5, { consistency: 'consistent' })])).toThrow(
      /only a read has a consistency/,
    )
  })

  it('rejects duplicate ids', () => {
    expect(() =>
      validateHistory([op('pin', 'a', 0, 5, { id: 1 }), op('pin', 'b', 0, 5, { id: 1 })]),
    ).toThrow(/duplicate id/)
  })
})

describe('partitionByCid and countOutcomes', () => {
  it('groups operations by CID in invocation order', () => {
    const history = [
      op('pin', 'b', 5, 6, { id: 1 }),
      op('pin', 'a', 3, 4, { id: 2 }),
      op('pin', 'b', 1, 2, { id: 3 }),
    ]
    const groups = partitionByCid(history)
    expect([...groups.keys()]).toEqual(['b', 'a'])
    expect(groups.get('b')!.map((operation) => operation.id)).toEqual([3, 1])
  })

  it('counts operations by kind and outcome', () => {
    const counts = countOutcomes([
      op('pin', 'a', 0, 1),
      op('pin', 'a', 0, 1, { outcome: 'unknown' }),
      op('read', 'a', 0, 1, { outcome: 'fail' }),
      op('read', 'a', 0, 1, { value: 'pinned', consistency: 'consistent' }),
    ])
    expect(counts.pin).toEqual({ ok: 1, fail: 0, unknown: 1 })
    expect(counts['local read']).toEqual({ ok: 0, fail: 1, unknown: 0 })
    expect(counts['consistent read']).toEqual({ ok: 1, fail: 0, unknown: 0 })
  })
})
