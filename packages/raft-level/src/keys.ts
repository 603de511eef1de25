/**
 * Key layout of the LevelDB database. The first byte is the record kind; log keys carry the
 * index as 8 big-endian bytes so that LevelDB's byte order is index order.
 */

const META = 0x00
const STABLE = 0x01
const LOG = 0x02

const encoder = new TextEncoder()

/** The format version of the whole store (see `formatVersion` in database.ts). */
export const formatKey = Uint8Array.of(META, ...encoder.encode('format'))
/** The sequence number of the last batch, matched against the durable record on open. */
export const sequenceKey = Uint8Array.of(META, ...encoder.encode('sequence'))
export const hardStateKey = Uint8Array.of(STABLE, ...encoder.encode('hard-state'))

/** The lowest and one past the highest possible log key, for ranges over the whole log. */
export const logKeysStart = Uint8Array.of(LOG)
export const logKeysEnd = Uint8Array.of(LOG + 1)

export function logKey(index: number): Uint8Array {
  const key = new Uint8Array(9)
  const view = new DataView(key.buffer)
  key[0] = LOG
  view.setUint32(1, Math.floor(index / 2 ** 32))
  view.setUint32(5, index >>> 0)
  return key
}

/** The index of a log key, or undefined if `key` is not one. */
export function indexOfLogKey(key: Uint8Array): number | undefined {
  if (key.byteLength !== 9 || key[0] !== LOG) return undefined
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  const high = view.getUint32(1)
  if (high >= 2 ** 21) return undefined
  return high * 2 ** 32 + view.getUint32(5)
}
