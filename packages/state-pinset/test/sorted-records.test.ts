import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cidKey } from '../src/cid.ts'
import { chunkSize, SortedRecords } from '../src/state/sorted-records.ts'
import { cidOf } from './fixtures.ts'

const keys = Array.from({ length: 3000 }, (_, n) => cidKey(cidOf(n, n % 2 === 0 ? 0x55 : 0x70)))

describe('SortedRecords', () => {
  it('stays sorted and finds every key through chunk splits and merges', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.nat({ max: keys.length - 1 }),
            fc.nat({ max: 3 }),
            // A lookup first, of the same key or another: set reuses where get found its key.
            fc.option(fc.oneof(fc.constant(-1), fc.nat({ max: keys.length - 1 }))),
          ),
          { minLength: 500, maxLength: 4000 },
        ),
        (steps) => {
          const records = new SortedRecords()
          const model = new Map<string, string>()
          for (const [insert, index, body, lookup] of steps) {
            const key = keys[index]!
            if (lookup !== null) {
              const looked = lookup === -1 ? key : keys[lookup]!
              expect(records.get(looked)).toBe(model.get(looked))
            }
            if (insert) {
              const record = key + String.fromCharCode(body)
              expect(records.set(key, record)).toBe(model.get(key))
              model.set(key, record)
            } else {
              expect(records.delete(key)).toBe(model.get(key))
              model.delete(key)
            }
          }
          expect(records.size).toBe(model.size)
          expect([...records.records()]).toEqual([...model.values()].sort())
          for (const key of keys.slice(0, 200)) expect(records.get(key)).toBe(model.get(key))
        },
      ),
      { numRuns: 15 },
    )
  })

  it('finds its place again when records changed between a lookup and the write', () => {
    const sorted = keys.slice(0, 8).sort()
    const records = new SortedRecords()
    for (const key of sorted) if (key !== sorted[4]) records.set(key, `${key}v`)
    // The lookup finds where sorted[4] would go; a delete before it moves that place.
    expect(records.get(sorted[4]!)).toBeUndefined()
    records.delete(sorted[1]!)
    records.set(sorted[4]!, `${sorted[4]}v`)
    expect(records.get(sorted[5]!)).toBe(`${sorted[5]}v`)
    records.set(sorted[5]!, `${sorted[5]}w`)
    const expected = sorted.filter((key) => key !== sorted[1]).map((key) => `${key}v`)
    expected[4] = `${sorted[5]}w`
    expect([...records.records()]).toEqual(expected)
  })

  it('fills chunks when records arrive in order', () => {
    const records = new SortedRecords()
    const sorted = [...keys].sort()
    for (const key of sorted) records.set(key, `${key}\u0000`)
    expect(records.chunkCount).toBe(Math.ceil(sorted.length / chunkSize))
  })
})
