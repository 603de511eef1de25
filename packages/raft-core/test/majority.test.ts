import { describe, expect, test } from 'vitest'
import { committedIndex } from '../src/quorum/majority.ts'

/** Every assignment of acknowledgements 0..3 to up to 7 voters, checked by counting. */
function* cases(): Generator<number[]> {
  for (let count = 1; count <= 7; count++) {
    for (let code = 0; code < 4 ** count; code++) {
      const values: number[] = []
      for (let digit = 0, rest = code; digit < count; digit++, rest = Math.floor(rest / 4)) {
        values.push(rest % 4)
      }
      yield values
    }
  }
}

describe('committedIndex', () => {
  test('is the largest index that a majority of voters acknowledged, for every small case', () => {
    let checked = 0
    for (const values of cases()) {
      const voters = values.map((_, index) => `n${index}`)
      const acknowledged = (id: string) => values[Number(id.slice(1))] as number
      const majority = Math.floor(values.length / 2) + 1
      // By definition: the largest index i such that at least a majority acknowledged ≥ i.
      let expected = 0
      for (let index = 3; index >= 0; index--) {
        if (values.filter((value) => value >= index).length >= majority) {
          expected = index
          break
        }
      }
      expect(committedIndex(voters, acknowledged)).toBe(expected)
      checked++
    }
    expect(checked).toBeGreaterThan(20_000)
  })

  test('is 0 with no voters', () => {
    expect(committedIndex([], () => 5)).toBe(0)
  })
})
