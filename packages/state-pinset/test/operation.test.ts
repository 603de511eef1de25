import { describe, expect, it } from 'vitest'
import type { Operation } from '../src/index.ts'
import {
  decodeOperation,
  encodeOperation,
  InvalidOperationError,
  type MalformedOperationError,
  maxRequestIdBytes,
  operationFormatVersion,
} from '../src/index.ts'
import { cidOf, cidV0, cidV1, peerOf } from './fixtures.ts'

const fullPin = {
  cid: cidV1,
  name: 'backup <2024>',
  allocations: [peerOf(1), peerOf(2)],
  userAllocations: [peerOf(2)],
  replicationFactorMin: 2,
  replicationFactorMax: 3,
  expireAt: Date.UTC(2031, 0, 1),
  metadata: { owner: 'alice', ключ: 'значение' },
  origins: [`/ip4/10.0.0.1/tcp/4001/p2p/${peerOf(1)}`],
  shardSize: 100,
  maxDepth: 5,
  timestamp: 1_700_000_000_000,
} as const

function expectMalformed(data: Uint8Array): MalformedOperationError {
  try {
    decodeOperation(data)
  } catch (error) {
    expect((error as Error).name).toBe('MalformedOperationError')
    return error as MalformedOperationError
  }
  throw new Error('decoded malformed bytes')
}

describe('operation encoding', () => {
  it('starts every entry with the format version', () => {
    expect(encodeOperation({ type: 'unpin', cid: cidV1 })[0]).toBe(operationFormatVersion)
  })

  it('round-trips pins, unpins and batches with their request ids', () => {
    const operations: Operation[] = [
      { type: 'pin', pin: fullPin, requestId: 'req-1' },
      { type: 'unpin', cid: cidV0 },
      {
        type: 'batch',
        requestId: 'batch-1',
        operations: [
          { type: 'pin', pin: { cid: cidOf(1), allocations: [peerOf(1)] } },
          { type: 'pin', pin: { cid: cidOf(2), allocations: [peerOf(1)] }, requestId: 'req-2' },
          { type: 'unpin', cid: cidOf(3) },
        ],
      },
    ]
    for (const operation of operations) {
      const decoded = decodeOperation(encodeOperation(operation))
      expect(encodeOperation(decoded)).toEqual(encodeOperation(operation))
    }
    const decoded = decodeOperation(encodeOperation(operations[0]!))
    expect(decoded).toMatchObject({
      type: 'pin',
      requestId: 'req-1',
      pin: { ...fullPin, cid: expect.anything() },
    })
  })

  it('gives one encoding per operation whatever the spelling of its input', () => {
    const a = encodeOperation({
      type: 'pin',
      pin: { cid: cidV1, metadata: { b: '1', a: '2' }, mode: 'direct' },
    })
    const b = encodeOperation({
      type: 'pin',
      pin: {
        cid: cidOf(0).toString() === cidV1 ? cidV1 : cidV1,
        metadata: { a: '2', b: '1' },
        maxDepth: 0,
      },
    })
    expect(a).toEqual(b)
  })

  it('is compact: a default pin costs a byte or two beyond its CID', () => {
    expect(encodeOperation({ type: 'pin', pin: { cid: cidV1 } }).length).toBe(
      1 + 1 + 1 + 1 + 36 + 1,
    )
  })

  it('refuses request ids that are empty or too long, and nested batches', () => {
    expect(() => encodeOperation({ type: 'unpin', cid: cidV1, requestId: '' })).toThrow(
      InvalidOperationError,
    )
    expect(() =>
      encodeOperation({ type: 'unpin', cid: cidV1, requestId: 'x'.repeat(maxRequestIdBytes + 1) }),
    ).toThrow(/at most 256/)
    // Counted in UTF-8 bytes, not characters: 129 two-byte characters are 258 bytes.
    const wide = 'é'.repeat(maxRequestIdBytes / 2 + 1)
    expect(() => encodeOperation({ type: 'unpin', cid: cidV1, requestId: wide })).toThrow(
      /at most 256 UTF-8 bytes, got 258/,
    )
    expect(() =>
      encodeOperation({ type: 'batch', operations: [{ type: 'batch', operations: [] } as never] }),
    ).toThrow(/do not nest/)
  })

  it('refuses invalid pins before they reach the log', () => {
    expect(() => encodeOperation({ type: 'pin', pin: { cid: 'nope' } })).toThrow(
      expect.objectContaining({ name: 'InvalidPinError' }),
    )
    expect(() => encodeOperation({ type: 'unpin', cid: 'nope' })).toThrow(
      expect.objectContaining({ name: 'InvalidCidError' }),
    )
  })

  it('rejects bytes from an unknown version, trailing bytes and empty entries', () => {
    const valid = encodeOperation({ type: 'pin', pin: fullPin })
    expect(expectMalformed(new Uint8Array(0)).message).toContain('end of data')
    expect(expectMalformed(Uint8Array.of(2, ...valid.subarray(1))).message).toContain('version 2')
    expect(expectMalformed(Uint8Array.of(...valid, 0)).message).toContain('follow')
  })

  it('rejects every truncation of a valid entry', () => {
    const valid = encodeOperation({
      type: 'batch',
      operations: [
        { type: 'pin', pin: fullPin },
        { type: 'unpin', cid: cidV0 },
      ],
    })
    for (let length = 0; length < valid.length; length++) expectMalformed(valid.subarray(0, length))
  })

  it('rejects non-canonical bytes that would decode to the same operation', () => {
    const valid = encodeOperation({ type: 'pin', pin: { cid: cidV1, name: 'x' } })
    // The flags varint (0x08, name) padded to two bytes.
    const flagsAt = valid.length - 3
    expect(valid[flagsAt]).toBe(0x08)
    const padded = Uint8Array.of(
      ...valid.subarray(0, flagsAt),
      0x88,
      0x00,
      ...valid.subarray(flagsAt + 1),
    )
    expect(expectMalformed(padded).message).toContain('minimally')
  })

  it('rejects a pin whose fields break a Pin rule even if its bytes are well-formed', () => {
    const valid = encodeOperation({
      type: 'pin',
      pin: { cid: cidV1, replicationFactorMin: 1, replicationFactorMax: 1 },
    })
    // Flip replication_factor_max from 1 (zigzag 2) to -1 (zigzag 1).
    const bad = valid.slice()
    bad[bad.length - 1] = 1
    expect(expectMalformed(bad).message).toContain('-1')
  })
})
