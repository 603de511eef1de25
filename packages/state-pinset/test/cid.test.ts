import { base16 } from 'multiformats/bases/base16'
import { base32, base32upper } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { base64, base64url } from 'multiformats/bases/base64'
import { base256emoji } from 'multiformats/bases/base256emoji'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import { cidKey, cidText, decodeCanonicalCid, parseCidKey } from '../src/cid.ts'
import { createPinsetState, type InvalidCidError, parseCid } from '../src/index.ts'
import { applyAll, cidV0, cidV1, listCids } from './fixtures.ts'

function invalid(input: unknown): InvalidCidError {
  try {
    parseCid(input)
  } catch (error) {
    return error as InvalidCidError
  }
  throw new Error(`parseCid accepted ${String(input)}`)
}

describe('parseCid', () => {
  it('parses a CIDv0 as base58btc without a multibase prefix', () => {
    const cid = parseCid(cidV0)
    expect(cid.version).toBe(0)
    expect(cid.toString()).toBe(cidV0)
  })

  it('parses a CIDv1 in every multibase to the same CID', () => {
    const reference = CID.parse(cidV1)
    for (const base of [
      base32,
      base32upper,
      base58btc,
      base36,
      base16,
      base64,
      base64url,
      base256emoji,
    ]) {
      const text = reference.toString(base)
      const cid = parseCid(text)
      expect(cid.equals(reference), `${base.name}: ${text}`).toBe(true)
      expect(cid.toString()).toBe(cidV1)
    }
  })

  it('parses base36 CIDs such as IPNS keys (k51…)', () => {
    const key = CID.createV1(0x72, CID.parse(cidV1).multihash)
    expect(parseCid(key.toString(base36)).equals(key)).toBe(true)
    expect(key.toString(base36).startsWith('k')).toBe(true)
  })

  it('accepts CID objects and CID bytes', () => {
    const cid = CID.parse(cidV1)
    expect(parseCid(cid).equals(cid)).toBe(true)
    expect(parseCid(cid.bytes).equals(cid)).toBe(true)
  })

  it('does not alias the bytes it was given', () => {
    const bytes = CID.parse(cidV1).bytes.slice()
    const cid = parseCid(bytes)
    bytes.fill(0)
    expect(cid.toString()).toBe(cidV1)
  })

  it('keeps CIDv0 and CIDv1 of the same multihash apart, as IPFS Cluster does', async () => {
    const v0 = parseCid(cidV0)
    const v1 = v0.toV1()
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: v0 } }, { type: 'pin', pin: { cid: v1 } })
    expect(state.count()).toBe(2)
    // CID order is byte order: a CIDv1 starts with 0x01, a CIDv0 with 0x12.
    expect(await listCids(state)).toEqual([v1.toString(), cidV0])
  })

  it.each([
    ['', 'it is empty'],
    [' bafy', 'whitespace'],
    ['#hello', 'unknown multibase prefix'],
    ['hello', 'non-base32z character'],
    ['QmUaFyXjZUNaUwYF8rBtbJc7fEJ46aJXvgV8z2HHs6jvm', '46 characters'],
    ['Qm0aFyXjZUNaUwYF8rBtbJc7fEJ46aJXvgV8z2HHs6jvmJ', ''],
    ['zQmUaFyXjZUNaUwYF8rBtbJc7fEJ46aJXvgV8z2HHs6jvmJ', ''],
    ['bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd', ''],
    ['bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi1', ''],
  ])('rejects %j with an InvalidCidError that quotes the input', (input, reason) => {
    const error = invalid(input)
    expect(error.name).toBe('InvalidCidError')
    expect(error.message).toContain(JSON.stringify(input))
    expect(error.message.toLowerCase()).toContain(reason.toLowerCase())
  })

  it('rejects values that are not CIDs at all', () => {
    for (const input of [42, null, undefined, {}, ['bafy'], { '/': cidV1 }]) {
      expect(invalid(input).name).toBe('InvalidCidError')
    }
  })

  it('rejects a CIDv1 whose varints are padded, so every CID has one key', () => {
    const bytes = CID.parse(cidV1).bytes
    // 0x70 (dag-pb) written in two bytes: 0xf0 0x00.
    const padded = new Uint8Array([bytes[0]!, 0xf0, 0x00, ...bytes.subarray(2)])
    expect(invalid(padded).message).toContain('minimally encoded')
  })

  it('rejects a CIDv0 whose multihash is not sha2-256 of 32 bytes', () => {
    const bytes = new Uint8Array([0x12, 0x10, ...new Uint8Array(16)])
    expect(invalid(bytes).name).toBe('InvalidCidError')
  })
})

describe('parsing a CID again', () => {
  it('returns a CID this package parsed as it is, without decoding it again', () => {
    const parsed = parseCid(cidV1.toString())
    expect(parseCid(parsed)).toBe(parsed)
  })

  it('copies a CID object made elsewhere, so changing its bytes later changes nothing here', () => {
    const foreign = CID.parse(cidV1.toString())
    const parsed = parseCid(foreign)
    expect(parsed).not.toBe(foreign)
    foreign.bytes.fill(0)
    expect(parsed.toString()).toBe(cidV1.toString())
  })
})

describe('decodeCanonicalCid', () => {
  /** Bytes of CIDs of several versions, codecs and hashes, and malformed ones. */
  function samples(): Uint8Array[] {
    const digest = (code: number, size: number): Uint8Array => {
      const hash = new Uint8Array(size).map((_, index) => (index * 37 + code) & 0xff)
      return Digest.create(code, hash).bytes
    }
    const cids = [
      CID.parse(cidV0.toString()),
      CID.parse(cidV1.toString()),
      CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32))),
      CID.createV1(0x71, Digest.create(0x13, new Uint8Array(64).fill(7))),
      // identity multihash, a codec of three varint bytes, a digest length of two
      CID.createV1(0x0129, Digest.create(0x00, new Uint8Array(3))),
      CID.createV1(0x300001, Digest.create(0xb220, new Uint8Array(200).fill(1))),
      CID.createV1(0x70, Digest.create(0x12, new Uint8Array(0))),
    ]
    const bytes = cids.map((cid) => cid.bytes)
    const v1 = CID.parse(cidV1.toString()).bytes
    return [
      ...bytes,
      digest(0x12, 32), // a bare multihash is a CIDv0's bytes
      new Uint8Array([0x12, 0x20, ...new Uint8Array(31)]), // short
      new Uint8Array([...v1, 0]), // trailing byte
      v1.subarray(0, v1.length - 1), // short digest
      new Uint8Array([0x01, 0xf0, 0x00, ...v1.subarray(2)]), // padded codec
      new Uint8Array([0x02, ...v1.subarray(1)]), // version 2
      new Uint8Array([0x01, 0x70, 0x12, 0x80, 0x80, 0x80, 0x80, 0x01]), // 5-byte varint
      new Uint8Array([0x01]),
      new Uint8Array([]),
    ]
  }

  it('builds the same CID as multiformats, and rejects what it rejects', () => {
    for (const bytes of samples()) {
      let expected: CID | Error
      try {
        const cid = CID.decode(bytes)
        expected = cid.version === 1 && !equal(cid.bytes, bytes) ? new Error('padded') : cid
        if (cid.version === 0 && (cid.multihash.code !== 0x12 || cid.multihash.size !== 32))
          expected = new Error('v0')
      } catch (error) {
        expected = error as Error
      }
      if (expected instanceof Error) {
        expect(() => decodeCanonicalCid(bytes.slice())).toThrow()
        continue
      }
      const decoded = decodeCanonicalCid(bytes.slice())
      expect(decoded).toEqual(expected)
      expect(decoded.toString()).toBe(expected.toString())
      expect(decoded.multihash.bytes).toEqual(expected.multihash.bytes)
      expect(decoded.multihash.digest).toEqual(expected.multihash.digest)
    }
  })
})

describe('parseCidKey', () => {
  /** The key parseCid gives, or its error's message. */
  function viaParseCid(input: unknown): string | { error: string } {
    try {
      return cidKey(parseCid(input))
    } catch (error) {
      return { error: (error as Error).message }
    }
  }

  function viaParseCidKey(input: unknown): string | { error: string } {
    try {
      return parseCidKey(input)
    } catch (error) {
      return { error: (error as Error).message }
    }
  }

  /** base32 texts of several CIDs, and of bytes that are not canonical CIDs, and each mangled. */
  function texts(): string[] {
    const cids = [
      CID.parse(cidV1.toString()),
      CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32).fill(9))),
      CID.createV1(0x71, Digest.create(0x13, new Uint8Array(64).fill(7))),
      CID.createV1(0x0129, Digest.create(0x00, new Uint8Array(3))),
      CID.createV1(0x300001, Digest.create(0xb220, new Uint8Array(200).fill(1))),
      CID.createV1(0x70, Digest.create(0x12, new Uint8Array(0))),
      CID.createV1(0x55, Digest.create(0x00, new Uint8Array(1030))), // over 1,024 bytes
    ]
    const v1 = CID.parse(cidV1.toString()).bytes
    const bytes = [
      ...cids.map((cid) => cid.bytes),
      CID.parse(cidV0.toString()).bytes, // a CIDv0's bytes written in base32
      new Uint8Array([...v1, 0]),
      v1.subarray(0, v1.length - 1),
      new Uint8Array([0x01, 0xf0, 0x00, ...v1.subarray(2)]),
      new Uint8Array([0x02, ...v1.subarray(1)]),
      new Uint8Array([0x01, 0x70, 0x12, 0x80, 0x80, 0x80, 0x80, 0x01]),
      new Uint8Array([0x01, 0x55]),
    ]
    const result: string[] = ['', 'b', 'ba', 'bafy', 'bafkqaaa', ' bafkqaaa']
    for (const value of bytes) {
      const text = base32.encode(value)
      const last = text.at(-1)!
      result.push(
        text,
        text.toUpperCase(), // "B…": base32upper, which this does not take
        `b${text.slice(1).toUpperCase()}`, // uppercase after a lowercase prefix
        `${text}=`,
        `${text}===`,
        `${text}a`,
        text.slice(0, -1),
        `${text.slice(0, -1)}${last === '7' ? '6' : '7'}`, // other spare bits
        `${text.slice(0, 5)}1${text.slice(6)}`, // not in the alphabet
        `${text.slice(0, 5)}é${text.slice(6)}`,
        `${text} `,
      )
    }
    return result
  }

  it('gives the key and the errors that parseCid gives, for base32 text and all else', () => {
    const inputs: unknown[] = [
      ...texts(),
      cidV0.toString(),
      CID.parse(cidV1.toString()),
      CID.parse(cidV1.toString()).bytes,
      base58btc.encode(CID.parse(cidV1.toString()).bytes),
      42,
      null,
    ]
    let accepted = 0
    for (const input of inputs) {
      const expected = viaParseCid(input)
      expect(viaParseCidKey(input), String(input)).toEqual(expected)
      if (typeof expected === 'string') accepted++
    }
    // Both accepted and refused inputs were compared.
    expect(accepted).toBeGreaterThan(8)
    expect(accepted).toBeLessThan(inputs.length - 40)
  })
})

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index])
}

describe('cidText', () => {
  it("is cid.toString()'s text for CIDv0 and CIDv1 alike", () => {
    for (const text of [
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
      'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
      'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    ]) {
      const cid = parseCid(text)
      expect(cidText(cid)).toBe(cid.toString())
      expect(cidText(cid)).toBe(text)
    }
  })
})
