import { describe, expect, it } from 'vitest'
import {
  BinaryReader,
  ByteWriter,
  binaryToBytes,
  bytesToBinary,
  DecodeFailure,
} from '../src/encoding/bytes.ts'

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

describe('ByteWriter.string and BinaryReader.string', () => {
  const texts = [
    '',
    'a',
    'name-1',
    'x'.repeat(300),
    'é',
    'pin ✓ 🚀',
    `${'a'.repeat(40)}ü`,
    '\u007f\u0080',
  ]

  it('write UTF-8 that TextEncoder agrees with, and read back the same text', () => {
    for (const text of texts) {
      const writer = new ByteWriter()
      writer.string(text)
      const encoded = new TextEncoder().encode(text)
      const written = writer.toBytes()
      // A varint length, then the UTF-8 bytes.
      expect(written.subarray(written.length - encoded.length)).toEqual(encoded)
      const reader = new BinaryReader(bytesToBinary(written))
      expect(reader.string()).toBe(text)
      expect(reader.remaining).toBe(0)
    }
  })

  it('rejects bytes that are not UTF-8', () => {
    for (const bytes of [
      [2, 0xff, 0x41],
      [1, 0xc3],
      [3, 0x61, 0x62, 0x80],
    ]) {
      const reader = new BinaryReader(bytesToBinary(new Uint8Array(bytes)))
      expect(() => reader.string()).toThrow(DecodeFailure)
    }
  })
})
