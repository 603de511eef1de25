import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import type { Operation, PinsetState } from '../src/index.ts'
import { encodeOperation } from '../src/index.ts'

/** A CIDv0 from IPFS Cluster's own export.json test data. */
export const cidV0 = 'QmUaFyXjZUNaUwYF8rBtbJc7fEJ46aJXvgV8z2HHs6jvmJ'
/** The CIDv1 of the IPFS docs examples (dag-pb, sha2-256), in base32. */
export const cidV1 = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

/** A distinct CIDv1 (raw, sha2-256 of made-up bytes) per number. */
export function cidOf(n: number, codec = 0x55): CID {
  const digest = new Uint8Array(32)
  for (let i = 0; i < 32; i++) digest[i] = (n * 31 + i * 7 + (n >> 8)) & 0xff
  digest[0] = n & 0xff
  digest[1] = (n >> 8) & 0xff
  return CID.createV1(codec, createDigest(0x12, digest))
}

/** A distinct Ed25519-style peer ID ("12D3KooW…") per number. */
export function peerOf(n: number): string {
  const key = new Uint8Array(36)
  key.set([8, 1, 18, 32])
  for (let i = 4; i < 36; i++) key[i] = (n * 13 + i) & 0xff
  return base58btc.baseEncode(createDigest(0, key).bytes)
}

/** A distinct RSA-style peer ID ("Qm…", a sha2-256 multihash) per number. */
export function rsaPeerOf(n: number): string {
  const digest = new Uint8Array(32).fill(n & 0xff)
  return base58btc.baseEncode(createDigest(0x12, digest).bytes)
}

let nextIndex = 1

/** Applies operations as committed commands; returns the results. */
export function applyAll(state: PinsetState, ...operations: Operation[]) {
  return operations.map((operation) =>
    state.apply({ index: nextIndex++, term: 1, data: encodeOperation(operation) }),
  )
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const all: Uint8Array[] = []
  for await (const chunk of chunks) all.push(chunk)
  return all
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

export async function snapshotBytes(state: PinsetState): Promise<Uint8Array> {
  return concat(await collect(state.snapshot()))
}

/** Streams bytes in chunks of `size`. */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size)
    yield bytes.slice(offset, offset + size)
}

export async function listCids(state: PinsetState): Promise<string[]> {
  const cids: string[] = []
  for await (const pin of state.list()) cids.push(pin.cid.toString())
  return cids
}

/** A small deterministic generator, so that a failure can be replayed. */
export function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}
