import { crc32 } from 'node:zlib'
import type { Entry, EntryType } from '@pinraft/raft-core'
import { StorageCorruptError } from '@pinraft/raft-core'
import { restoreAdvice } from './advice.ts'
import { InvalidRecordError } from './errors.ts'

/**
 * A stored log entry: `[codec 1][type 1][term 8][crc32 4][data…]`. The CRC covers the key too,
 * so an entry that LevelDB returns under the wrong index is caught, not only flipped bits.
 */
const codecVersion = 1
const headerLength = 14
const typeCodes: Record<EntryType, number> = { normal: 0, configuration: 1, noop: 2 }
const typesByCode: readonly EntryType[] = ['normal', 'configuration', 'noop']

export function encodeEntry(entry: Entry, key: Uint8Array): Uint8Array {
  const typeCode = typeCodes[entry.type]
  if (typeCode === undefined) {
    throw new InvalidRecordError(
      `entry ${entry.index} has type ${String(entry.type)}; use 'normal', 'configuration' or 'noop'`,
    )
  }
  if (!Number.isSafeInteger(entry.term) || entry.term < 0) {
    throw new InvalidRecordError(
      `entry ${entry.index} has term ${String(entry.term)}; terms are non-negative integers`,
    )
  }
  if (!(entry.data instanceof Uint8Array)) {
    throw new InvalidRecordError(`entry ${entry.index} has data that is not a Uint8Array`)
  }
  const value = new Uint8Array(headerLength + entry.data.byteLength)
  const view = new DataView(value.buffer)
  value[0] = codecVersion
  value[1] = typeCode
  view.setUint32(2, Math.floor(entry.term / 2 ** 32))
  view.setUint32(6, entry.term >>> 0)
  value.set(entry.data, headerLength)
  view.setUint32(10, checksum(key, value))
  return value
}

/** Decodes entry `index`; `where` names the store in the error for a damaged entry. */
export function decodeEntry(
  index: number,
  key: Uint8Array,
  value: Uint8Array,
  where: string,
): Entry {
  const damaged = (what: string) =>
    new StorageCorruptError(
      `log entry ${index} in ${where} is damaged (${what}). The store cannot be trusted: ${restoreAdvice}`,
    )
  if (value.byteLength < headerLength) throw damaged(`only ${value.byteLength} bytes`)
  if (value[0] !== codecVersion) throw damaged(`unknown entry codec ${value[0]}`)
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  if (view.getUint32(10) !== checksum(key, value)) throw damaged('checksum mismatch')
  const type = typesByCode[value[1]!]
  if (type === undefined) throw damaged(`unknown entry type ${value[1]}`)
  const term = view.getUint32(2) * 2 ** 32 + view.getUint32(6)
  return { index, term, type, data: new Uint8Array(value.subarray(headerLength)) }
}

function checksum(key: Uint8Array, value: Uint8Array): number {
  let sum = crc32(key)
  sum = crc32(value.subarray(0, 10), sum)
  return crc32(value.subarray(headerLength), sum)
}
