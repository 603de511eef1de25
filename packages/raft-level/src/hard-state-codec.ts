import { crc32 } from 'node:zlib'
import type { HardState } from '@pinraft/raft-core'

/** The stored hard state: `[crc32 4][JSON {term, vote, commit}]`. */
export function encodeHardState(state: HardState): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(state))
  const value = new Uint8Array(4 + json.byteLength)
  value.set(json, 4)
  new DataView(value.buffer).setUint32(0, crc32(json))
  return value
}

/** The hard state in `value`, or undefined if it is damaged. */
export function decodeHardState(value: Uint8Array): HardState | undefined {
  if (value.byteLength < 4) return undefined
  const json = value.subarray(4)
  if (new DataView(value.buffer, value.byteOffset, 4).getUint32(0) !== crc32(json)) return undefined
  try {
    const parsed = JSON.parse(new TextDecoder().decode(json)) as Partial<Record<string, unknown>>
    const { term, vote, commit } = parsed
    if (!Number.isSafeInteger(term) || !Number.isSafeInteger(commit)) return undefined
    if (vote !== null && typeof vote !== 'string') return undefined
    return { term: term as number, vote, commit: commit as number }
  } catch {
    return undefined
  }
}
