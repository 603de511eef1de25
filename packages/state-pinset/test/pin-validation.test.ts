import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { decode as decodeDigest } from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import type { PinInput } from '../src/index.ts'
import { InvalidPinError, parsePeerId, validatePin } from '../src/index.ts'
import { cidOf, cidV0, cidV1, peerOf, rsaPeerOf } from './fixtures.ts'

function rejects(input: PinInput, field: string, text = ''): void {
  let caught: unknown
  try {
    validatePin(input)
  } catch (error) {
    caught = error
  }
  expect(caught, `accepted ${JSON.stringify(input)}`).toBeInstanceOf(InvalidPinError)
  const error = caught as InvalidPinError
  expect(error.name).toBe('InvalidPinError')
  expect(error.field).toBe(field)
  expect(error.message).toContain(text)
}

describe('validatePin', () => {
  it('fills IPFS Cluster defaults: a recursive data pin with the cluster replication factors', () => {
    const pin = validatePin({ cid: cidV1 })
    expect(pin).toMatchObject({
      name: '',
      mode: 'recursive',
      type: 'pin',
      allocations: [],
      replicationFactorMin: 0,
      replicationFactorMax: 0,
      userAllocations: [],
      expireAt: null,
      metadata: {},
      origins: [],
      shardSize: 0,
      maxDepth: -1,
      reference: null,
      timestamp: null,
    })
    expect(pin.cid.toString()).toBe(cidV1)
  })

  it('derives max_depth from mode and mode from max_depth', () => {
    expect(validatePin({ cid: cidV1, mode: 'direct' }).maxDepth).toBe(0)
    expect(validatePin({ cid: cidV1, maxDepth: 0 }).mode).toBe('direct')
    expect(validatePin({ cid: cidV1, maxDepth: 5 }).mode).toBe('recursive')
    rejects({ cid: cidV1, mode: 'direct', maxDepth: -1 }, 'mode', 'contradicts')
    rejects({ cid: cidV1, mode: 'recursive', maxDepth: 0 }, 'mode', 'contradicts')
    rejects({ cid: cidV1, mode: 'sideways' as never }, 'mode')
    rejects({ cid: cidV1, maxDepth: -2 }, 'max_depth')
  })

  describe('replication factors (0 = cluster default, -1 = everywhere)', () => {
    it.each([
      [0, 0],
      [-1, -1],
      [1, 1],
      [2, 3],
      [0, 3],
      [2, 0],
    ])('accepts min %i, max %i', (min, max) => {
      expect(
        validatePin({ cid: cidV1, replicationFactorMin: min, replicationFactorMax: max }),
      ).toMatchObject({
        replicationFactorMin: min,
        replicationFactorMax: max,
      })
    })

    it.each([
      [-1, 3, 'both be -1'],
      [2, -1, 'both be -1'],
      [-1, 0, 'both be -1'],
      [3, 2, 'larger than'],
      [-2, -2, 'from -1'],
      [1.5, 2, 'integer'],
    ])('rejects min %d, max %d', (min, max, text) => {
      rejects(
        { cid: cidV1, replicationFactorMin: min, replicationFactorMax: max },
        'replication_factor_min',
        text,
      )
    })
  })

  describe('pin type rules (IPFS Cluster checkPinType)', () => {
    const reference = cidOf(9)
    it('accepts each well-formed type', () => {
      expect(validatePin({ cid: cidV1, type: 'shard-pin', maxDepth: 1 }).type).toBe('shard-pin')
      expect(
        validatePin({
          cid: cidV1,
          type: 'clusterdag-pin',
          maxDepth: 0,
          reference,
        }).reference?.equals(reference),
      ).toBe(true)
      expect(validatePin({ cid: cidV1, type: 'meta-pin', reference }).type).toBe('meta-pin')
    })
    it('rejects the ill-formed ones', () => {
      rejects({ cid: cidV1, reference }, 'reference', 'data pins reference no other pin')
      rejects({ cid: cidV1, type: 'shard-pin' }, 'max_depth', 'must be 1')
      rejects({ cid: cidV1, type: 'clusterdag-pin', maxDepth: 0 }, 'reference')
      rejects({ cid: cidV1, type: 'clusterdag-pin', reference }, 'max_depth', 'must be 0')
      rejects({ cid: cidV1, type: 'meta-pin' }, 'reference')
      rejects(
        { cid: cidV1, type: 'meta-pin', reference, allocations: [peerOf(1)] },
        'allocations',
        'empty',
      )
      rejects({ cid: cidV1, type: 'bad-type' as never }, 'type')
    })
  })

  it('names the field of a bad CID and quotes it', () => {
    rejects({ cid: 'bafy-not-a-cid' }, 'cid', '"bafy-not-a-cid"')
    rejects({ cid: cidV1, type: 'meta-pin', reference: 'nope' }, 'reference', '"nope"')
  })

  it('keeps peer IDs in their canonical base58btc form, as IPFS Cluster writes them', () => {
    const ed25519 = peerOf(1)
    const rsa = rsaPeerOf(2)
    const keyCid = CID.createV1(0x72, decodeDigest(base58btc.baseDecode(ed25519)))
    const pin = validatePin({ cid: cidV1, allocations: [ed25519, rsa, keyCid.toString(base32)] })
    expect(pin.allocations).toEqual([ed25519, rsa, ed25519])
    expect(parsePeerId(keyCid.toString())).toBe(ed25519)
  })

  it('rejects peer IDs that are not peer IDs', () => {
    rejects({ cid: cidV1, allocations: ['not-a-peer'] }, 'allocations', '[0]')
    rejects({ cid: cidV1, userAllocations: [peerOf(1), cidV1] }, 'user_allocations', '[1]')
    rejects({ cid: cidV1, allocations: [42 as never] }, 'allocations')
    rejects({ cid: cidV1, allocations: 'QmX' as never }, 'allocations', 'array')
  })

  it('reads times as milliseconds, Dates or RFC 3339, and treats Go zero time as unset', () => {
    expect(validatePin({ cid: cidV1, expireAt: '2030-01-02T03:04:05Z' }).expireAt).toBe(
      Date.UTC(2030, 0, 2, 3, 4, 5),
    )
    expect(
      validatePin({ cid: cidV1, expireAt: '2030-01-02T05:04:05.123456789+02:00' }).expireAt,
    ).toBe(Date.UTC(2030, 0, 2, 3, 4, 5, 123))
    expect(validatePin({ cid: cidV1, timestamp: new Date(1_700_000_000_000) }).timestamp).toBe(
      1_700_000_000_000,
    )
    expect(validatePin({ cid: cidV1, timestamp: '0001-01-01T00:00:00Z' }).timestamp).toBeNull()
    expect(validatePin({ cid: cidV1, timestamp: '1970-01-01T00:00:00Z' }).timestamp).toBeNull()
    rejects({ cid: cidV1, expireAt: 'tomorrow' }, 'expire_at', 'RFC 3339')
    rejects({ cid: cidV1, expireAt: '2030-02-30T00:00:00Z' }, 'expire_at', 'out of range')
    rejects({ cid: cidV1, timestamp: 1.5 }, 'timestamp', 'whole number')
    rejects({ cid: cidV1, timestamp: 8.64e15 }, 'timestamp', '0000 to 9999')
  })

  it('sorts metadata by key and refuses non-string values', () => {
    const pin = validatePin({
      cid: cidV1,
      metadata: JSON.parse('{"zeta":"1","alpha":"2","__proto__":"3"}'),
    })
    expect(Object.keys(pin.metadata)).toEqual(['__proto__', 'alpha', 'zeta'])
    expect(Object.getOwnPropertyDescriptor(pin.metadata, '__proto__')?.value).toBe('3')
    expect(Object.keys(validatePin({ cid: cidV1, metadata: { b: '1', a: '2' } }).metadata)).toEqual(
      ['a', 'b'],
    )
    rejects({ cid: cidV1, metadata: { a: 1 as never } }, 'metadata', '"a"')
    rejects({ cid: cidV1, metadata: ['x'] as never }, 'metadata')
  })

  it('checks names, origins and shard sizes', () => {
    rejects({ cid: cidV1, name: 'bad \ud800 name' }, 'name', 'lone surrogate')
    rejects({ cid: cidV1, origins: ['ip4/1.2.3.4'] }, 'origins', 'multiaddresses')
    rejects({ cid: cidV1, shardSize: -1 }, 'shard_size')
    expect(
      validatePin({
        cid: cidV0,
        origins: [`/ip4/1.2.3.4/tcp/4001/p2p/${peerOf(3)}`],
        shardSize: 1 << 20,
      }).shardSize,
    ).toBe(1 << 20)
  })
})
