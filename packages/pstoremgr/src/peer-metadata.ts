import type { Peer } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'

/*
 * What the manager keeps about a cluster peer lives in the libp2p peer store, in the peer's
 * metadata, so the peer store stays the single source of truth. Metadata, unlike addresses,
 * does not age out of the peer store after an hour without contact.
 */

/** Bootstrap priority: a decimal integer, lower first. Its presence marks a cluster peer. */
export const PRIORITY_KEY = 'pinraft/pstoremgr/priority'

/** The addresses given to the manager for this peer (without /p2p), one per line. */
export const ADDRESSES_KEY = 'pinraft/pstoremgr/addresses'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodePriority(priority: number): Uint8Array {
  return encoder.encode(String(priority))
}

/** The peer's priority, or undefined when it has none (not a peer this manager imported). */
export function peerPriority(peer: Peer): number | undefined {
  const bytes = peer.metadata.get(PRIORITY_KEY)
  if (bytes === undefined) return undefined
  const priority = Number(decoder.decode(bytes))
  return Number.isSafeInteger(priority) ? priority : undefined
}

export function encodeAddresses(addresses: readonly Multiaddr[]): Uint8Array {
  return encoder.encode(addresses.map((address) => address.toString()).join('\n'))
}

/** The remembered addresses; an entry that no longer parses is dropped rather than fatal. */
export function peerRememberedAddresses(peer: Peer): Multiaddr[] {
  const bytes = peer.metadata.get(ADDRESSES_KEY)
  if (bytes === undefined) return []
  const addresses: Multiaddr[] = []
  for (const text of decoder.decode(bytes).split('\n')) {
    if (text === '') continue
    try {
      addresses.push(multiaddr(text))
    } catch {
      // Written by this module from valid multiaddrs; only foreign edits land here.
    }
  }
  return addresses
}
