import { peerIdFromString } from '@libp2p/peer-id'
import { blake2b } from '@noble/hashes/blake2.js'
import type { CID } from 'multiformats/cid'

function hash(bytes: Uint8Array): Uint8Array {
  return blake2b(bytes, { dkLen: 32 })
}

function distance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const result = new Uint8Array(32)
  for (let i = 0; i < 32; i++) result[i] = a[i]! ^ b[i]!
  return result
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

/**
 * Whether `self` is the member closest to `cid` (1.x's distanceChecker.isClosest): BLAKE2b-256
 * of the peer ID's bytes and of the CID's bytes, compared by XOR distance. Every peer computes
 * the same answer, so exactly one of them acts on a CID (ties go to every tied peer, as in 1.x).
 */
export function isClosest(cid: CID, self: string, others: readonly string[]): boolean {
  const target = hash(cid.bytes)
  const mine = distance(target, hash(peerIdFromString(self).toMultihash().bytes))
  for (const other of others) {
    if (other === self) continue
    const theirs = distance(target, hash(peerIdFromString(other).toMultihash().bytes))
    if (compare(mine, theirs) > 0) return false
  }
  return true
}
