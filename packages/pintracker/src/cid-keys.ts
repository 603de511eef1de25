import { cidText } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'

/**
 * The CID's string as the operations' key, copied flat: multiformats builds base32 strings by
 * concatenation, and V8 keeps such a string as a rope of about 1.5 KB until it is flattened.
 * `cidText`, not `cid.toString()`, whose cache map per CID was most of this call's cost.
 */
export function operationKey(cid: CID): string {
  return Buffer.from(cidText(cid), 'latin1').toString('latin1')
}

/** Compares pins by their multihash, so CIDv0 and v1 of one DAG match across IPFS implementations. */
export function multihashKey(cid: CID): string {
  const bytes = cid.multihash.bytes
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}
