import { createHash } from 'node:crypto'

const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'

function base32(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let text = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      text += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) text += alphabet[(value << (5 - bits)) & 31]
  return text
}

/**
 * A CIDv1 (raw codec, sha2-256) in base32, the form IPFS Cluster prints: the workload's keys. The
 * content is the run's seed and the key's number, so every run names its own CIDs and a CID in
 * the final state that no call named stands out.
 */
export function workloadCid(seed: number, key: number): string {
  const digest = createHash('sha256').update(`pinraft-reliability:${seed}:${key}`).digest()
  // version 1, codec raw (0x55), multihash sha2-256 (0x12) of 32 bytes (0x20)
  return `b${base32(Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]))}`
}
