import { messageTypes } from '@pinraft/raft-core'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { decodeMessage, encodeMessage } from '../src/codec/message-codec.ts'
import * as pb from '../src/pb/raft.gen.ts'
import { arbitraryMessage } from './fixtures/arbitraries.ts'

const from = '12D3KooWSender'
const to = '12D3KooWReceiver'

function malformed(bytes: Uint8Array): string {
  try {
    decodeMessage(bytes, from, to)
  } catch (err) {
    return (err as Error).name
  }
  return 'decoded'
}

describe('message codec', () => {
  test('every message type survives encode then decode unchanged', () => {
    fc.assert(
      fc.property(arbitraryMessage(from, to), (message) => {
        expect(decodeMessage(encodeMessage(message), from, to)).toEqual(message)
      }),
      { numRuns: 500 },
    )
  })

  test('the arbitraries cover every raft-core message type', () => {
    const seen = new Set(
      fc.sample(arbitraryMessage(from, to), 2_000).map((message) => message.type),
    )
    expect([...seen].sort()).toEqual([...messageTypes].sort())
  })

  test('sender and receiver come from the connection, not from the bytes', () => {
    const bytes = encodeMessage({
      type: 'timeout-now',
      from: 'someone-else',
      to: 'not-me',
      term: 3,
    })
    expect(decodeMessage(bytes, from, to)).toEqual({ type: 'timeout-now', from, to, term: 3 })
  })

  test('a frame without a known message type is malformed', () => {
    expect(malformed(pb.RaftMessage.encode({ type: 99, term: 1 }))).toBe('MalformedFrameError')
    expect(malformed(pb.RaftMessage.encode({ term: 1 }))).toBe('MalformedFrameError')
  })

  test('an entry of unknown type is malformed', () => {
    const bytes = pb.RaftMessage.encode({
      type: 1,
      entries: [{ index: 1, term: 1, type: 7, data: new Uint8Array() }],
    })
    expect(malformed(bytes)).toBe('MalformedFrameError')
  })

  test('integers beyond 2^53 are malformed rather than silently rounded', () => {
    const writer = pb.RaftMessage.encode({ type: 3, term: 1 })
    // field 2 (term), varint 2^60
    const big = new Uint8Array([
      ...writer.subarray(0, 2),
      0x10,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x10,
    ])
    expect(malformed(big)).toBe('MalformedFrameError')
  })

  test('bytes that are not protobuf are malformed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const outcome = malformed(bytes)
        expect(['MalformedFrameError', 'decoded']).toContain(outcome)
      }),
      { numRuns: 300 },
    )
    expect(malformed(new Uint8Array([0x0a, 0xff, 0xff]))).toBe('MalformedFrameError')
  })

  test('a snapshot message without metadata is malformed', () => {
    expect(malformed(pb.RaftMessage.encode({ type: 9, term: 1 }))).toBe('MalformedFrameError')
  })
})
