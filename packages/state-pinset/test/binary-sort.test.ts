import { describe, expect, it } from 'vitest'
import { sortBinaryStrings } from '../src/encoding/binary-sort.ts'
import { random } from './fixtures.ts'

function bytes(next: () => number, length: number, alphabet = 256): string {
  let text = ''
  for (let i = 0; i < length; i++) text += String.fromCharCode(Math.floor(next() * alphabet))
  return text
}

function expectDefaultOrder(strings: string[]): void {
  const expected = strings.slice().sort()
  const sorted = sortBinaryStrings(strings)
  expect(sorted.length).toBe(expected.length)
  // One comparison over the whole array: a mismatch names the first place it differs.
  const first = sorted.findIndex((text, index) => text !== expected[index])
  expect(first).toBe(-1)
}

describe('sorting binary strings in byte order', () => {
  it('orders records sharing a CID prefix as the default sort does', () => {
    const next = random(1)
    const prefix = '\x01\x55\x12\x20'
    const strings = Array.from({ length: 20_000 }, () => prefix + bytes(next, 32) + bytes(next, 3))
    expectDefaultOrder(strings)
  })

  it('settles strings whose first four bytes after the shared prefix are equal', () => {
    const next = random(2)
    // Few distinct windows, so most strings are ordered by the second sort.
    const windows = ['\x00\x00\x00\x00', '\x00\x00\x00\x01', '\xff\xff\xff\xff', 'abcd']
    const strings = Array.from(
      { length: 12_000 },
      () =>
        `P${windows[Math.floor(next() * windows.length)]}${bytes(next, Math.floor(next() * 6))}`,
    )
    expectDefaultOrder(strings)
  })

  it('puts a string before the longer ones it is a prefix of, zero bytes included', () => {
    const next = random(3)
    const strings: string[] = []
    for (let i = 0; i < 5_000; i++) {
      const base = bytes(next, Math.floor(next() * 5), 3)
      strings.push(base, `${base}\x00`, `${base}\x00\x00\x00\x00\x00`, '')
    }
    expectDefaultOrder(strings)
  })

  it('keeps every copy of a repeated string', () => {
    const next = random(4)
    const distinct = Array.from({ length: 1_000 }, () => `\x01\x70${bytes(next, 8)}`)
    const strings = Array.from(
      { length: 9_000 },
      () => distinct[Math.floor(next() * distinct.length)]!,
    )
    expectDefaultOrder(strings)
  })

  it('sorts short lists, and lists without a shared prefix, as the default sort does', () => {
    const next = random(5)
    expect(sortBinaryStrings([])).toEqual([])
    expectDefaultOrder(Array.from({ length: 100 }, () => bytes(next, 6)))
    expectDefaultOrder(
      Array.from({ length: 70_000 }, () => bytes(next, 1 + Math.floor(next() * 9))),
    )
  })
})
