import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { encodeFrames, FrameDecoder } from '../src/codec/framing.ts'

function decodeAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = []
  for (const chunk of chunks) {
    frames.push(...decoder.push(chunk))
  }
  return frames
}

function errorName(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    return (err as Error).name
  }
  return 'none'
}

describe('framing', () => {
  test('frames split at any points decode to the same payloads in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (payloads, cuts) => {
          const bytes = encodeFrames(payloads)
          const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort(
            (a, b) => a - b,
          )
          const chunks: Uint8Array[] = []
          let start = 0
          for (const point of [...points, bytes.byteLength]) {
            chunks.push(bytes.subarray(start, point))
            start = point
          }
          const frames = decodeAll(new FrameDecoder(1024), chunks)
          expect(frames.map((frame) => [...frame])).toEqual(payloads.map((payload) => [...payload]))
        },
      ),
      { numRuns: 300 },
    )
  })

  test('a length prefix above the limit is refused before any of its body arrives', () => {
    const decoder = new FrameDecoder(100)
    const prefixOnly = encodeFrames([new Uint8Array(101)]).subarray(0, 1)
    expect(errorName(() => decodeAll(decoder, [prefixOnly]))).toBe('FrameTooLargeError')
  })

  test('a partial prefix that already exceeds the limit is refused', () => {
    // 0xff 0xff … : at least 16383 and still growing
    expect(errorName(() => decodeAll(new FrameDecoder(1000), [new Uint8Array([0xff, 0xff])]))).toBe(
      'FrameTooLargeError',
    )
  })

  test('a frame of exactly the limit is accepted', () => {
    const frames = decodeAll(new FrameDecoder(100), [encodeFrames([new Uint8Array(100).fill(7)])])
    expect(frames).toHaveLength(1)
    expect(frames[0]?.byteLength).toBe(100)
  })

  test('a varint longer than five bytes is malformed', () => {
    const decoder = new FrameDecoder(Number.MAX_SAFE_INTEGER)
    const bytes = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
    expect(errorName(() => decodeAll(decoder, [bytes]))).toBe('MalformedFrameError')
  })
})
