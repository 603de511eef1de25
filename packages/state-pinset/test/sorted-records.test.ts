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
        fc.array(fc.tuple(fc.boolean(), fc.nat({ max: keys.length - 1 }), fc.nat({ max: 3 })), {
          minLength: 500,
          maxLength: 4000,
        }),
        (steps) => {
          const records = new SortedRecords()
          const model = new Map<string, string>()
          for (const [insert, index, body] of steps) {
            const key = keys[index]!
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

  it('fills chunks when records arrive in order', () => {
    const records = new SortedRecords()
    const sorted = [...keys].sort()
    for (const key of sorted) records.set(key, `${key}\u0000`)
    expect(records.chunkCount).toBe(Math.ceil(sorted.length / chunkSize))
  })
})
