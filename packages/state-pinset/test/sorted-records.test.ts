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
          for (const [step, [insert, index, body, lookup]] of steps.entries()) {
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
            if (step % 50 === 0) records.checkStructure()
          }
          records.checkStructure()
          expect(records.last()).toBe([...model.values()].sort().at(-1))
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
  it('places keys shorter than the prefix its chunk shares, and keys that differ just after it', () => {
    const start = '\u00ff\u00ff\u00ff\u00ff\u00fe\u00fe'
    const records = new SortedRecords()
    const shared = Array.from({ length: 10 }, (_, n) => `${start}\u0000${String.fromCharCode(n)}`)
    for (const key of shared) records.set(key, `${key}.`)
    expect(records.get(shared[3]!)).toBe(`${shared[3]}.`)
    // Differs from the chunk's prefix only in its seventh byte (an inexact double at 7 bytes).
    const after = `${start}\u0001\u0000`
    // Shorter than the shared prefix (as a short identity CID is): below it, then above it.
    const below = '\u00ff\u00fe'
    const above = '\u00ff\u00ff\u00ff\u00ff\u00ff'
    for (const key of [after, below, above]) {
      expect(records.get(key)).toBeUndefined()
      records.set(key, `${key}.`)
      records.checkStructure()
    }
    const expected = [below, ...shared, after, above].map((key) => `${key}.`)
    expect([...records.records()]).toEqual(expected)
    for (const key of [after, below, above, ...shared]) expect(records.get(key)).toBe(`${key}.`)
  })

  it('keeps its index right when a new body falls within the bytes it indexes', () => {
    // Keys that share all but their last byte: a chunk's index then reads past the key.
    const close = Array.from(
      { length: 40 },
      (_, n) => `\u0001\u0070\u0012${String.fromCharCode(n)}`,
    )
    const records = new SortedRecords()
    for (const key of close) records.set(key, `${key}\u0000\u0000`)
    expect(records.get(close[20]!)).toBe(`${close[20]}\u0000\u0000`)
    records.checkStructure()
    records.set(close[20]!, `${close[20]}\u00ff\u00ff`)
    records.checkStructure()
    for (const [n, key] of close.entries()) {
      expect(records.get(key)).toBe(`${key}${n === 20 ? '\u00ff\u00ff' : '\u0000\u0000'}`)
    }
  })
})

describe('SortedRecords across many chunks', () => {
  const alike = Array.from({ length: 4000 }, (_, n) => {
    const shared = n % 3 === 0 ? '\u0001\u0070\u0012\u0020\u00ff\u00ff\u00ff\u00ff' : '\u0001\u0070'
    return `${shared}${String.fromCharCode((n * 7919) % 256, n % 256, n >> 8)}`.padEnd(12, '\u0000')
  })

  it('finds every key through chunk splits, merges and appends', () => {
    fc.assert(
      fc.property(
        fc.array(
          // Unbiased: fast-check favours small numbers, which would reuse a few hundred keys.
          fc.noBias(
            fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: alike.length - 1 }), fc.nat({ max: 3 })),
          ),
          // fast-check keeps arrays near minLength by default; several chunks need thousands.
          { minLength: 6000, maxLength: 9000, size: 'max' },
        ),
        (steps) => {
          const records = new SortedRecords()
          const model = new Map<string, string>()
          for (const [step, [action, index, body]] of steps.entries()) {
            const key = alike[index]!
            if (action === 2) {
              expect(records.delete(key)).toBe(model.get(key))
              model.delete(key)
            } else {
              const record = key + String.fromCharCode(body)
              expect(records.set(key, record)).toBe(model.get(key))
              model.set(key, record)
            }
            if (step % 500 === 0) records.checkStructure()
          }
          records.checkStructure()
          expect(records.chunkCount).toBeGreaterThan(2)
          const sorted = [...model.keys()].sort()
          expect([...records.records()]).toEqual(sorted.map((key) => model.get(key)))
          for (const key of alike) expect(records.get(key)).toBe(model.get(key))
          // Appends above every record keep finding them too.
          const above = Array.from({ length: 1200 }, (_, n) =>
            `\u00ff\u00ff${String.fromCharCode(n >> 8, n & 255)}`.padEnd(12, '\u0000'),
          )
          for (const key of above) records.append(`${key}!`)
          records.checkStructure()
          expect(records.last()).toBe(`${above.at(-1)}!`)
          for (const key of above) expect(records.get(key)).toBe(`${key}!`)
          for (const key of sorted) expect(records.get(key)).toBe(model.get(key))
          // Thinning chunks out from the top merges each with its thinned next one.
          const all = [...sorted, ...above]
          for (let position = all.length - 1; position >= 0; position--) {
            if (position % 10 !== 0) records.delete(all[position]!)
          }
          records.checkStructure()
          const kept = all.filter((_, position) => position % 10 === 0)
          expect([...records.records()]).toEqual(kept.map((key) => model.get(key) ?? `${key}!`))
          for (const key of kept) expect(records.get(key)).toBe(model.get(key) ?? `${key}!`)
          // Emptying chunks one after another (every other key first) removes them.
          const order = [
            ...kept.filter((_, n) => n % 2 === 0),
            ...kept.filter((_, n) => n % 2 === 1),
          ]
          for (const [done, key] of order.entries()) {
            records.delete(key)
            if (done % 50 === 0) {
              records.checkStructure()
              for (const left of order.slice(done + 1)) {
                expect(records.get(left)).toBe(model.get(left) ?? `${left}!`)
              }
            }
          }
          expect(records.size).toBe(0)
        },
      ),
      { numRuns: 12, endOnFailure: true },
    )
  })

  it('keeps finding the chunks above one that merged or emptied, and grows past 64 chunks', () => {
    const many = Array.from(
      { length: 70 * chunkSize },
      (_, n) => `\u0001\u0070\u0012\u0020${String.fromCharCode(n >> 16, (n >> 8) & 255, n & 255)}`,
    )
    const records = new SortedRecords()
    // The first half set, the rest appended (past 64 chunks: the descriptions' arrays grow).
    for (const [n, key] of many.entries()) {
      if (n < 35 * chunkSize) records.set(key, `${key}.`)
      else records.append(`${key}.`)
    }
    expect(records.chunkCount).toBe(70)
    const present = new Set(many)
    const check = () => {
      records.checkStructure()
      for (const key of many)
        expect(records.get(key)).toBe(present.has(key) ? `${key}.` : undefined)
      expect([...records.records()]).toEqual(
        many.filter((key) => present.has(key)).map((key) => `${key}.`),
      )
    }
    // Chunks 10 and 11 thinned from the top: 10 merges with 11 once both are small.
    for (let n = 12 * chunkSize - 1; n >= 10 * chunkSize; n--) {
      if (n % 10 !== 0) {
        records.delete(many[n]!)
        present.delete(many[n]!)
      }
    }
    expect(records.chunkCount).toBe(69)
    check()
    // Chunk 20 (19 after the merge) emptied.
    for (let n = 20 * chunkSize; n < 21 * chunkSize; n++) {
      records.delete(many[n]!)
      present.delete(many[n]!)
    }
    expect(records.chunkCount).toBe(68)
    check()
  })
})
