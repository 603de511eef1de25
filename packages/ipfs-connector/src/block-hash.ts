import type { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { InvalidBlockError } from './errors.ts'

const hashers = new Map<number, { digest(bytes: Uint8Array): unknown }>([
  [sha256.code, sha256],
  [sha512.code, sha512],
  [identity.code, identity],
])

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false
  return true
}

/** Checks that `bytes` hash to `cid`'s multihash: a block written under a wrong CID is refused. */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  const hasher = hashers.get(cid.multihash.code)
  if (hasher === undefined) {
    throw new InvalidBlockError(
      `block ${cid.toString()} uses multihash code 0x${cid.multihash.code.toString(16)}, which this node does not verify; use sha2-256 or sha2-512`,
    )
  }
  const digest = (await hasher.digest(bytes)) as { digest: Uint8Array }
  if (!equalBytes(digest.digest, cid.multihash.digest)) {
    throw new InvalidBlockError(
      `the bytes given for block ${cid.toString()} do not hash to it: the block was corrupted or sent under the wrong CID`,
    )
  }
}
