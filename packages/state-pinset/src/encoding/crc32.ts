import { crc32 as zlibCrc32 } from 'node:zlib'

/**
 * The CRC-32 (IEEE 802.3, the zlib/PNG one) of `bytes`, continuing from `previous` (the CRC of
 * the bytes before them). zlib's native CRC replaced a table-driven JavaScript loop that showed
 * in the leader's CPU profile.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlibCrc32(bytes, previous)
}
