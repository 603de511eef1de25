import { describe, expect, it } from 'vitest'
import { seededRandom } from '../sim/random.ts'
import { PendingProposals } from '../src/node/pending-proposals.ts'

describe('PendingProposals', () => {
  it('finds each by index across growth, and drops what is taken from either end', () => {
    const pending = new PendingProposals<string>()
    for (let index = 100; index < 140; index++) pending.set(index, `p${index}`)
    expect(pending.size).toBe(40)
    expect(pending.get(99)).toBeUndefined()
    expect(pending.get(117)).toBe('p117')
    expect(pending.take(100)).toBe('p100')
    expect(pending.take(139)).toBe('p139')
    expect(pending.take(139)).toBeUndefined()
    expect(pending.get(101)).toBe('p101')
    expect(pending.size).toBe(38)
  })

  it('returns what waited at an index that is set again, and keeps the count', () => {
    const pending = new PendingProposals<string>()
    pending.set(5, 'old')
    pending.set(6, 'other')
    expect(pending.set(5, 'new')).toBe('old')
    expect(pending.size).toBe(2)
    expect(pending.get(5)).toBe('new')
  })

  it('accepts an index below the lowest pending one', () => {
    const pending = new PendingProposals<string>()
    pending.set(50, 'b')
    pending.set(20, 'a')
    expect(pending.get(20)).toBe('a')
    expect(pending.get(50)).toBe('b')
    expect(pending.takeAll()).toEqual(['a', 'b'])
    expect(pending.size).toBe(0)
  })

  it('takes everything at or below an index, lowest first, with its index', () => {
    const pending = new PendingProposals<string>()
    for (const index of [3, 5, 8, 13]) pending.set(index, `p${index}`)
    expect(pending.takeThrough(8)).toEqual([
      [3, 'p3'],
      [5, 'p5'],
      [8, 'p8'],
    ])
    expect(pending.get(13)).toBe('p13')
    expect(pending.size).toBe(1)
  })

  it('behaves as a map from index to proposal over random operations, wrapping around the ring', () => {
    const random = seededRandom(7)
    const pick = (n: number) => Math.floor(random() * n)
    const pending = new PendingProposals<number>()
    const model = new Map<number, number>()
    let next = 1
    for (let step = 0; step < 20_000; step++) {
      const choice = pick(10)
      if (choice < 4) {
        // Mostly appended in order, as a leader does; sometimes below or inside the span.
        const index = choice === 0 ? Math.max(1, next - 1 - pick(40)) : next++
        expect(pending.set(index, step)).toBe(model.get(index))
        model.set(index, step)
      } else if (choice < 8) {
        // Applied in order: the lowest first; sometimes one from the middle (an abort).
        const keys = [...model.keys()].sort((a, b) => a - b)
        const index = choice < 7 ? (keys[0] ?? next) : (keys[pick(keys.length)] ?? next)
        expect(pending.take(index)).toBe(model.get(index))
        model.delete(index)
      } else if (choice === 8) {
        const index = next - pick(60)
        expect(pending.get(index)).toBe(model.get(index))
      } else if (pick(50) === 0) {
        const through = next - pick(30)
        const expected = [...model.entries()]
          .filter(([index]) => index <= through)
          .sort((a, b) => a[0] - b[0])
        expect(pending.takeThrough(through)).toEqual(expected)
        for (const [index] of expected) model.delete(index)
      }
      expect(pending.size).toBe(model.size)
    }
    const rest = [...model.entries()].sort((a, b) => a[0] - b[0]).map(([, value]) => value)
    expect(pending.takeAll()).toEqual(rest)
  })
})
