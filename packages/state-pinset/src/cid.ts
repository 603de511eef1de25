import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { bases } from 'multiformats/basics'
import { CID } from 'multiformats/cid'
import { Digest } from 'multiformats/hashes/digest'
import { binaryToBytes, bytesToBinary } from './encoding/bytes.ts'
import { InvalidCidError } from './errors.ts'

/** The largest CID this package accepts, in bytes: far above any hash (identity CIDs included). */
export const maxCidBytes = 1024

const decoders = Object.values(bases).map((base) => base.decoder)

function decodeMultibase(text: string): Uint8Array {
  const decoder = decoders.find((candidate) => text.startsWith(candidate.prefix))
  if (decoder === undefined) {
    throw new Error(
      `unknown multibase prefix ${JSON.stringify(String.fromCodePoint(text.codePointAt(0) ?? 0))}`,
    )
  }
  return decoder.decode(text)
}

/**
 * CIDs this package checked itself: parsing one of them again (a validated pin encoded, a
 * pin looked up by the CID of its own pin) is a lookup instead of a decode.
 */
const canonical = new WeakSet<CID>()

/**
 * The CIDs decoded here without multiformats' decode: their class marks them as checked, which
 * costs nothing, where adding each to `canonical` was a tenth of an import's CPU (and GC work).
 * It adds no field: a CanonicalCid equals, prints and encodes as the CID it is.
 */
class CanonicalCid<Version extends 0 | 1 = 0 | 1> extends CID<unknown, number, number, Version> {}

/**
 * Checks that bytes are one canonical CID (so the same CID always has the same bytes, the
 * pinset's key, however it was written) and returns it. The CID may share `bytes`' buffer.
 */
export function decodeCanonicalCid(bytes: Uint8Array): CID {
  if (bytes.length > maxCidBytes) throw new Error(`a CID may be at most ${maxCidBytes} bytes`)
  const fast = decodeCommonCid(bytes)
  if (fast !== null) return fast
  const cid = CID.decode(bytes)
  if (cid.version === 0) {
    if (cid.multihash.code !== 0x12 || cid.multihash.size !== 32) {
      throw new Error('a CIDv0 must be a sha2-256 multihash of 32 bytes')
    }
  } else if (!equalBytes(cid.bytes, bytes)) {
    // CID.decode re-encodes a CIDv1 minimally: a difference means padded varints.
    throw new Error('the CID is not canonically encoded')
  }
  canonical.add(cid)
  return cid
}

/**
 * The CID of `bytes` built without multiformats' decode (which parses with allocations and, for
 * a CIDv1, encodes the CID again to build its bytes): a CIDv0, or a CIDv1 of minimal varints
 * of at most 4 bytes each, whose digest fills the rest exactly. The result is the object
 * CID.decode builds for these bytes, whose own encoding they are. Null for anything else,
 * which the full decode then checks (and rejects with its reason).
 */
function decodeCommonCid(bytes: Uint8Array): CID | null {
  const length = bytes.length
  if (length < 2) return null
  if (bytes[0] === 0x12) {
    if (bytes[1] !== 0x20 || length !== 34) return null
    return new CanonicalCid(0, dagPbCode, new Digest(0x12, 32, bytes.subarray(2), bytes), bytes)
  }
  if (bytes[0] !== 0x01) return null
  let at = 1
  const fields = [0, 0, 0]
  for (let field = 0; field < 3; field++) {
    let value = 0
    let scale = 1
    for (let count = 0; ; count++) {
      if (count === 4 || at >= length) return null
      const byte = bytes[at++]!
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        // A multi-byte varint ending in 0 is not minimal: the full decode rejects it.
        if (byte === 0 && count > 0) return null
        break
      }
      scale *= 0x80
    }
    fields[field] = value
  }
  const [codec, hashCode, digestLength] = fields as [number, number, number]
  if (at + digestLength !== length) return null
  const multihash = bytes.subarray(1 + varintLength(codec))
  return new CanonicalCid(
    1,
    codec,
    new Digest(hashCode, digestLength, bytes.subarray(at), multihash),
    bytes,
  )
}

function varintLength(value: number): number {
  let count = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    count++
  }
  return count
}

const dagPbCode = 0x70

/** As `decodeCanonicalCid`, on a private copy of the bytes. */
function canonicalCid(bytes: Uint8Array): CID {
  return decodeCanonicalCid(bytes.slice())
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Parses a CID: a CIDv0 ("Qm…") or a CIDv1 in any multibase, as a string, its bytes or a CID
 * object. Throws `InvalidCidError`, quoting the input, for anything else.
 */
export function parseCid(input: unknown): CID {
  if (input instanceof Uint8Array) {
    try {
      return canonicalCid(input)
    } catch (error) {
      throw new InvalidCidError(input, reason(error))
    }
  }
  const asCid = input !== null && typeof input === 'object' ? CID.asCID(input) : null
  if (asCid !== null) {
    if (asCid instanceof CanonicalCid || canonical.has(asCid)) return asCid
    try {
      return canonicalCid(asCid.bytes)
    } catch (error) {
      throw new InvalidCidError(String(asCid), reason(error))
    }
  }
  if (typeof input !== 'string')
    throw new InvalidCidError(input, `a CID is a string, not ${describe(input)}`)
  const text = input
  if (text.length === 0) throw new InvalidCidError(text, 'it is empty')
  if (text.trim() !== text) throw new InvalidCidError(text, 'it has leading or trailing whitespace')
  try {
    if (text.startsWith('Q')) {
      if (text.length !== 46)
        throw new Error(`a CIDv0 ("Qm…") is 46 characters long, this is ${text.length}`)
      // Bytes decoded from the text are this call's own: no copy needed.
      return decodeCanonicalCid(CID.parse(text).bytes)
    }
    const bytes = decodeMultibase(text)
    if (bytes[0] === 0x12)
      throw new Error('a CIDv0 is written in base58btc without a multibase prefix ("Qm…")')
    return decodeCanonicalCid(bytes)
  } catch (error) {
    throw new InvalidCidError(text, reason(error))
  }
}

function describe(input: unknown): string {
  if (input === null) return 'null'
  if (Array.isArray(input)) return 'an array'
  return `a ${typeof input}`
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.length > 0
    ? message.charAt(0).toLowerCase() + message.slice(1)
    : 'it does not decode'
}

/** The pinset key of a CID: its bytes as a binary string. */
export function cidKey(cid: CID): string {
  return bytesToBinary(cid.bytes)
}

/**
 * The pinset key of a CID, as `cidKey(parseCid(input))` gives it (and with its errors), without
 * building a CID for the usual text: a CIDv1 in base32 ("bafy…", "bafk…"), decoded straight to
 * the key and checked as `decodeCommonCid` checks bytes. Any other input, or text this does not
 * settle (padding, uppercase, an unusual CID, an error), goes through `parseCid`.
 */
export function parseCidKey(input: unknown): string {
  if (typeof input === 'string') {
    const key = base32CidKey(input)
    if (key !== null) return key
  }
  return cidKey(parseCid(input))
}

/** RFC 4648 base32 (lowercase, multibase "b") values by char code; -1 for any other char. */
const base32Values = new Int8Array(128).fill(-1)
for (let value = 0; value < 32; value++) {
  base32Values['abcdefghijklmnopqrstuvwxyz234567'.charCodeAt(value)] = value
}
const maxBase32Length = 1 + Math.ceil((maxCidBytes * 8) / 5)

function base32CidKey(text: string): string | null {
  const length = text.length
  if (length < 4 || length > maxBase32Length || text.charCodeAt(0) !== 0x62) return null
  const codes = new Array<number>(((length - 1) * 5) >>> 3)
  let buffer = 0
  let bits = 0
  let written = 0
  for (let at = 1; at < length; at++) {
    const code = text.charCodeAt(at)
    const value = code < 128 ? base32Values[code]! : -1
    if (value < 0) return null
    // At most 12 bits are pending (fewer than 8 before these 5).
    buffer = ((buffer << 5) | value) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      codes[written++] = (buffer >> bits) & 0xff
    }
  }
  // As multiformats decodes: no whole character left over, and the spare bits zero.
  if (bits >= 5 || ((buffer << (8 - bits)) & 0xff) !== 0) return null
  const key = String.fromCharCode.apply(null, codes)
  if (key.charCodeAt(0) !== 0x01 || cidLength(key, 0, key.length) !== key.length) return null
  return key
}

/** The CID of a pinset key. */
export function cidFromKey(key: string): CID {
  return CID.decode(binaryToBytes(key))
}

/**
 * The length of the canonical CID at the start of `source[offset…]`, or -1 if there is none.
 * Cheaper than `CID.decode` for bytes this package wrote itself (records in memory and in
 * snapshots, which are checksummed): it checks the structure without building objects.
 */
export function cidLength(source: string, offset: number, end: number): number {
  if (offset + 2 > end) return -1
  const first = source.charCodeAt(offset)
  if (first === 0x12) {
    return source.charCodeAt(offset + 1) === 0x20 && offset + 34 <= end ? 34 : -1
  }
  if (first !== 0x01) return -1
  let at = offset + 1
  // codec, multihash code, digest length: three minimal varints, each at most 4 bytes here.
  let digestLength = 0
  for (let field = 0; field < 3; field++) {
    let value = 0
    let scale = 1
    for (let count = 0; ; count++) {
      if (count === 4 || at >= end) return -1
      const byte = source.charCodeAt(at++)
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        if (byte === 0 && count > 0) return -1
        break
      }
      scale *= 0x80
    }
    digestLength = value
  }
  const total = at - offset + digestLength
  if (total > maxCidBytes || offset + total > end) return -1
  return total
}

/**
 * `cid.toString()`'s text (base58btc for a CIDv0, base32 for a CIDv1) without its per-CID cache:
 * a cache map for every CID used once (a million pins listed, every pin tracked) was a large
 * share of the time and garbage of those paths.
 */
export function cidText(cid: CID): string {
  return cid.version === 0 ? base58btc.baseEncode(cid.bytes) : base32.encode(cid.bytes)
}
