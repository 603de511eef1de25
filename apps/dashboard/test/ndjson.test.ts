import { describe, expect, it } from 'vitest'
import { NdjsonDecoder, NdjsonParseError, parseNdjson, readNdjson } from '../src/ndjson.ts'

function streamOf(chunks: string[]): ReadableStream<Uint8Array> & { cancelled: boolean } {
  const encoder = new TextEncoder()
  let index = 0
  const state = { cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index]
      index += 1
      if (chunk === undefined) controller.close()
      else controller.enqueue(encoder.encode(chunk))
    },
    cancel() {
      state.cancelled = true
    },
  })
  return Object.defineProperty(stream, 'cancelled', { get: () => state.cancelled }) as never
}

describe('NdjsonDecoder', () => {
  it('gives each value once its line is complete, however the bytes are split', () => {
    const decoder = new NdjsonDecoder()
    expect(decoder.push('{"cid":"a"}\n{"ci')).toEqual([{ cid: 'a' }])
    expect(decoder.push('d":"b"}')).toEqual([])
    expect(decoder.push('\n\n{"cid":"c"}')).toEqual([{ cid: 'b' }])
    expect(decoder.end()).toEqual([{ cid: 'c' }])
    expect(decoder.end()).toEqual([])
  })

  it('names the line that is not JSON', () => {
    const decoder = new NdjsonDecoder()
    decoder.push('{"ok":1}\n')
    expect(() => decoder.push('{"broken"\n')).toThrow(NdjsonParseError)
    let failure: unknown
    try {
      new NdjsonDecoder().push('1\n2\nnot json\n')
    } catch (error) {
      failure = error
    }
    expect(failure).toBeInstanceOf(NdjsonParseError)
    expect((failure as NdjsonParseError).line).toBe(3)
    expect((failure as Error).message).toMatch(/^line 3 of the answer is not JSON: /)
  })
})

describe('parseNdjson', () => {
  it('reads a whole body, with or without a final newline, skipping blank lines', () => {
    expect(parseNdjson('{"a":1}\n\n{"a":2}\n')).toEqual([{ a: 1 }, { a: 2 }])
    expect(parseNdjson('{"a":1}\r\n{"a":2}')).toEqual([{ a: 1 }, { a: 2 }])
    expect(parseNdjson('')).toEqual([])
  })
})

describe('readNdjson', () => {
  it('reads a stream to its end, multi-byte characters split across chunks included', async () => {
    const bytes = new TextEncoder().encode('{"name":"é"}\n')
    const split = [bytes.slice(0, 10), bytes.slice(10)]
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of split) controller.enqueue(chunk)
        controller.close()
      },
    })
    expect(await readNdjson(stream, 10)).toEqual({ values: [{ name: 'é' }], truncated: false })
  })

  it('stops at the limit and cancels the rest of the body', async () => {
    const stream = streamOf(['1\n2\n', '3\n4\n', '5\n'])
    const read = await readNdjson(stream, 3)
    expect(read).toEqual({ values: [1, 2, 3], truncated: true })
    expect(stream.cancelled).toBe(true)
  })

  it('answers nothing for no body (a 204)', async () => {
    expect(await readNdjson(null, 5)).toEqual({ values: [], truncated: false })
  })
})
