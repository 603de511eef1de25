import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_DNSADDR,
  CODE_IP4,
  CODE_IP6,
  CODE_IP6ZONE,
  CODE_MEMORY,
  CODE_P2P,
  CODE_UNIX,
  isMultiaddr,
  type Multiaddr,
  multiaddr,
} from '@multiformats/multiaddr'
import { InvalidMultiaddrError, type MultiaddrSource } from './errors.ts'

/**
 * A validated cluster peer address. `peer` lines name one peer at one address; a `dnsaddr`
 * line names a domain whose TXT records list addresses (of one peer when it carries /p2p).
 */
export type PeerMultiaddr =
  | {
      type: 'peer'
      peerId: PeerId
      /** The address without the trailing /p2p/<peer-id>, as libp2p's peer store keeps it. */
      address: Multiaddr
      /** The whole multiaddr, ending in /p2p/<peer-id> (an /ipfs/ input is rewritten to /p2p/). */
      multiaddr: Multiaddr
    }
  | {
      type: 'dnsaddr'
      /** The peer the TXT records are filtered to, when the multiaddr ends in /p2p/<peer-id>. */
      peerId: PeerId | undefined
      multiaddr: Multiaddr
    }

/** Codes an address may start with: an IP, a DNS name, or a local transport. */
const ADDRESS_START_CODES = new Set([
  CODE_IP4,
  CODE_IP6,
  CODE_IP6ZONE,
  CODE_DNS,
  CODE_DNS4,
  CODE_DNS6,
  CODE_DNSADDR,
  CODE_UNIX,
  CODE_MEMORY,
])

const DNS_CODES = new Set([CODE_DNS, CODE_DNS4, CODE_DNS6, CODE_DNSADDR])

/**
 * Parses and validates a multiaddr that names a cluster peer: an address ending in
 * /p2p/<peer-id> (or the older /ipfs/<peer-id>), or a /dnsaddr/<domain> with or without one.
 * Throws `InvalidMultiaddrError`, naming `where` (file and line) when given.
 */
export function parsePeerMultiaddr(
  input: string | Multiaddr,
  where: MultiaddrSource = {},
): PeerMultiaddr {
  const text = isMultiaddr(input) ? input.toString() : input.trim()
  if (text === '') throw new InvalidMultiaddrError(text, 'it is empty', where)
  if (!text.startsWith('/'))
    throw new InvalidMultiaddrError(text, 'it does not start with /', where)

  let parsed: Multiaddr
  try {
    parsed = isMultiaddr(input) ? input : multiaddr(text)
  } catch (err) {
    const reason = `it is not a valid multiaddr (${(err as Error).message})`
    throw new InvalidMultiaddrError(text, reason, where, { cause: err })
  }

  const components = parsed.getComponents()
  const first = components[0]
  const last = components.at(-1)
  if (first === undefined || last === undefined) {
    throw new InvalidMultiaddrError(text, 'it is empty', where)
  }
  if (first.code === CODE_P2P) {
    throw new InvalidMultiaddrError(text, 'it has no address before /p2p/<peer-id>', where)
  }
  if (!ADDRESS_START_CODES.has(first.code)) {
    const reason = `it starts with /${first.name} instead of an address (/ip4, /ip6, /dns, /dns4, /dns6 or /dnsaddr)`
    throw new InvalidMultiaddrError(text, reason, where)
  }

  if (first.code === CODE_DNSADDR) {
    if (components.length === 1) return { type: 'dnsaddr', peerId: undefined, multiaddr: parsed }
    if (components.length > 2 || last.code !== CODE_P2P) {
      const reason = 'a /dnsaddr/<domain> may only be followed by /p2p/<peer-id>'
      throw new InvalidMultiaddrError(text, reason, where)
    }
    return { type: 'dnsaddr', peerId: parsePeerId(text, last.value, where), multiaddr: parsed }
  }

  if (last.code !== CODE_P2P) {
    throw new InvalidMultiaddrError(text, 'it does not end in /p2p/<peer-id>', where)
  }
  const peerId = parsePeerId(text, last.value, where)
  const address = multiaddr(components.slice(0, -1))
  return { type: 'peer', peerId, address, multiaddr: address.encapsulate(`/p2p/${peerId}`) }
}

function parsePeerId(text: string, value: string | undefined, where: MultiaddrSource): PeerId {
  try {
    return peerIdFromString(value ?? '')
  } catch (err) {
    const reason = `${JSON.stringify(value ?? '')} is not a peer ID (expected base58, Qm… or 12D3KooW…)`
    throw new InvalidMultiaddrError(text, reason, where, { cause: err })
  }
}

/** True when the address starts with a DNS name (/dns, /dns4, /dns6 or /dnsaddr). */
export function isDnsMultiaddr(address: Multiaddr): boolean {
  const first = address.getComponents()[0]
  return first !== undefined && DNS_CODES.has(first.code)
}

/** The address with /p2p/<peer-id> appended, unless it already ends with it. */
export function withPeerId(address: Multiaddr, peerId: PeerId): Multiaddr {
  const last = address.getComponents().at(-1)
  if (last?.code === CODE_P2P && last.value === peerId.toString()) return address
  return address.encapsulate(`/p2p/${peerId}`)
}

/** The address without its trailing /p2p/<peer-id>, if it has one. */
export function withoutPeerId(address: Multiaddr): Multiaddr {
  const components = address.getComponents()
  if (components.at(-1)?.code !== CODE_P2P) return address
  return multiaddr(components.slice(0, -1))
}
