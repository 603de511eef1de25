import { describe, expect, it } from 'vitest'
import { binaryToBytes, bytesToBinary } from '../src/encoding/bytes.ts'

describe('bytesToBinary', () => {
  it('gives one character per byte, for short and long ranges of a view into a larger buffer', () => {
    const backing = new Uint8Array(40_000).map((_, index) => (index * 131 + 7) & 0xff)
    const view = backing.subarray(1_000, 30_000)
    for (const [start, end] of [
      [0, 0],
      [3, 200],
      [5, 5_000],
      [0, view.length],
    ] as const) {
      const text = bytesToBinary(view, start, end)
      expect(text.length).toBe(end - start)
      let expected = ''
      for (let i = start; i < end; i++) expected += String.fromCharCode(view[i]!)
      expect(text).toBe(expected)
      expect(binaryToBytes(text)).toEqual(view.slice(start, end))
    }
  })
})
