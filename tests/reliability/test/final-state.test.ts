import { describe, expect, it } from 'vitest'
import { checkFinalState } from '../src/final-state.ts'
import { op } from './support/operations.ts'

const everywhere = (cids: string[]) => ({ 'peer-0': cids, 'peer-1': cids, 'peer-2': cids })

describe('checkFinalState', () => {
  it('accepts converged peers holding exactly the acknowledged pins', () => {
    const history = [
      op('pin', 'a', 0, 10),
      op('pin', 'b', 0, 10),
      op('unpin', 'b', 20, 30, { value: 'unpinned' }),
    ]
    const result = checkFinalState(history, everywhere(['a']))
    expect(result).toMatchObject({
      verdict: 'ok',
      violations: [],
      acknowledgedPinsChecked: 1,
      cidsChecked: 2,
    })
  })

  it('rejects a lost acknowledged pin', () => {
    const history = [op('pin', 'a', 0, 10, { id: 7 })]
    expect(checkFinalState(history, everywhere([])).violations).toEqual([
      { kind: 'lost-pin', cid: 'a', peers: ['peer-0', 'peer-1', 'peer-2'], acknowledgedBy: 7 },
    ])
  })

  it('accepts a missing pin when an unpin may have come after it', () => {
    const concurrent = [op('pin', 'a', 0, 10), op('unpin', 'a', 5, 15, { value: 'unpinned' })]
    const unknownLater = [op('pin', 'a', 0, 10), op('unpin', 'a', 20, 30, { outcome: 'unknown' })]
    expect(checkFinalState(concurrent, everywhere([])).verdict).toBe('ok')
    expect(checkFinalState(unknownLater, everywhere([])).verdict).toBe('ok')
  })

  it('does not count a failed or 404 unpin as removing a pin', () => {
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 20, 30, { outcome: 'fail' }),
      op('unpin', 'a', 40, 50, { value: 'absent' }),
    ]
    expect(
      checkFinalState(history, everywhere([])).violations.map((violation) => violation.kind),
    ).toEqual(['lost-pin'])
  })

  it('rejects a pin that was never requested', () => {
    const result = checkFinalState([op('pin', 'a', 0, 10)], everywhere(['a', 'z']))
    expect(result.violations).toEqual([
      { kind: 'phantom-pin', cid: 'z', peers: ['peer-0', 'peer-1', 'peer-2'] },
    ])
  })

  it('rejects a pin whose every request failed', () => {
    const result = checkFinalState([op('pin', 'a', 0, 10, { outcome: 'fail' })], everywhere(['a']))
    expect(result.violations.map((violation) => violation.kind)).toEqual(['phantom-pin'])
  })

  it('accepts an unknown pin present or absent', () => {
    const history = [op('pin', 'a', 0, 10, { outcome: 'unknown' })]
    expect(checkFinalState(history, everywhere(['a'])).verdict).toBe('ok')
    expect(checkFinalState(history, everywhere([])).verdict).toBe('ok')
  })

  it('rejects a pin that survived an acknowledged unpin after every pin', () => {
    const history = [op('pin', 'a', 0, 10), op('unpin', 'a', 20, 30, { value: 'unpinned', id: 9 })]
    expect(checkFinalState(history, everywhere(['a'])).violations).toEqual([
      { kind: 'resurrected-pin', cid: 'a', peers: ['peer-0', 'peer-1', 'peer-2'], unpinnedBy: 9 },
    ])
  })

  it('accepts a pin present when a later unknown pin may have re-added it', () => {
    const history = [
      op('pin', 'a', 0, 10),
      op('unpin', 'a', 20, 30, { value: 'unpinned' }),
      op('pin', 'a', 40, 50, { outcome: 'unknown' }),
    ]
    expect(checkFinalState(history, everywhere(['a'])).verdict).toBe('ok')
  })

  it('rejects divergent peers', () => {
    const history = [op('pin', 'a', 0, 10, { outcome: 'unknown' })]
    const result = checkFinalState(history, { 'peer-0': ['a'], 'peer-1': [], 'peer-2': ['a'] })
    expect(result.violations).toEqual([
      { kind: 'divergent-peers', cid: 'a', presentOn: ['peer-0', 'peer-2'], absentOn: ['peer-1'] },
    ])
  })
})
