import { base58btc } from 'multiformats/bases/base58'
import { decode as decodeDigest } from 'multiformats/hashes/digest'
import { parseCid } from '../cid.ts'
import { bytesToBinary } from '../encoding/bytes.ts'

/** The multicodec of a libp2p public key, which a peer ID in CID form must use. */
const libp2pKeyCodec = 0x72

/**
 * Base58 is quadratic and a cluster names the same few peers in every pin, so conversions are
 * memoised. The caches only save time: a hit returns what the conversion would.
 */
class BoundedCache<V> {
  readonly #entries = new Map<string, V>()
  readonly #limit: number
  constructor(limit: number) {
    this.#limit = limit
  }
  get(key: string): V | undefined {
    return this.#entries.get(key)
  }
  set(key: string, value: V): V {
    if (this.#entries.size >= this.#limit) this.#entries.clear()
    this.#entries.set(key, value)
    return value
  }
}

const parsed = new BoundedCache<string | { error: string }>(4096)
const fromBytes = new BoundedCache<string | null>(4096)
const toBytes = new BoundedCache<Uint8Array>(4096)

function parseUncached(input: string): string | { error: string } {
  let multihash: Uint8Array
  try {
    if (input.startsWith('Qm') || input.startsWith('1')) {
      multihash = base58btc.baseDecode(input)
    } else {
      const cid = parseCid(input)
      if (cid.code !== libp2pKeyCodec)
        return { error: `is a CID but not a libp2p-key one: ${JSON.stringify(input)}` }
      multihash = cid.multihash.bytes
    }
    decodeDigest(multihash)
  } catch {
    return { error: `is not a valid peer ID: ${JSON.stringify(input)}` }
  }
  return base58btc.baseEncode(multihash)
}

/**
 * Parses a libp2p peer ID as Go's `peer.Decode` does (base58btc multihash, "Qm…" or "12D3Koo…",
 * or a CIDv1 with the libp2p-key codec) and returns its canonical base58btc form, which is what
 * IPFS Cluster writes. Returns an error message for anything else.
 */
export function parsePeerId(input: unknown): string | { error: string } {
  if (typeof input !== 'string')
    return { error: `must be a peer ID string, not ${input === null ? 'null' : typeof input}` }
  if (input.length === 0) return { error: 'must not be an empty peer ID' }
  if (input.length > 256)
    return { error: `is not a valid peer ID: ${JSON.stringify(`${input.slice(0, 60)}…`)}` }
  return parsed.get(input) ?? parsed.set(input, parseUncached(input))
}

/** The multihash bytes of a canonical base58btc peer ID. */
export function peerIdBytes(peerId: string): Uint8Array {
  return toBytes.get(peerId) ?? toBytes.set(peerId, base58btc.baseDecode(peerId))
}

/** The canonical peer ID of multihash bytes, or null when they are not a multihash. */
export function peerIdFromBytes(bytes: Uint8Array): string | null {
  const key = bytesToBinary(bytes)
  const known = fromBytes.get(key)
  if (known !== undefined) return known
  try {
    decodeDigest(bytes)
  } catch {
    return fromBytes.set(key, null)
  }
  return fromBytes.set(key, base58btc.baseEncode(bytes))
}
