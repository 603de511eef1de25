import type { AbortOptions } from '@libp2p/interface'
import { type DNS, RecordType } from '@multiformats/dns'
import { CODE_DNSADDR, CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { DnsaddrResolutionError } from './errors.ts'

/** How many /dnsaddr indirections are followed before giving up (a TXT record may loop). */
export const MAX_DNSADDR_DEPTH = 8

/**
 * Resolves a /dnsaddr/<domain>[/p2p/<peer-id>] multiaddr through the `_dnsaddr.<domain>` TXT
 * records (`dnsaddr=<multiaddr>`), following nested /dnsaddr entries. With a peer ID, only that
 * peer's entries are kept. Entries that are not multiaddrs are skipped. Throws
 * `DnsaddrResolutionError` when the lookup fails.
 */
export async function resolveDnsaddr(
  address: Multiaddr,
  dns: DNS,
  options: AbortOptions = {},
): Promise<Multiaddr[]> {
  return resolveAt(address, dns, options, 0)
}

async function resolveAt(
  address: Multiaddr,
  dns: DNS,
  options: AbortOptions,
  depth: number,
): Promise<Multiaddr[]> {
  const components = address.getComponents()
  const domain = components.find((component) => component.code === CODE_DNSADDR)?.value
  if (domain === undefined) return [address]
  if (depth >= MAX_DNSADDR_DEPTH) {
    throw new DnsaddrResolutionError(
      address.toString(),
      `more than ${MAX_DNSADDR_DEPTH} nested /dnsaddr records; check the TXT records for a loop`,
    )
  }
  const peerId = components.findLast((component) => component.code === CODE_P2P)?.value

  let answers: Array<{ data: string }>
  try {
    const response = await dns.query(`_dnsaddr.${domain}`, {
      types: [RecordType.TXT],
      signal: options.signal,
    })
    answers = response.Answer
  } catch (err) {
    if (isEmptyAnswer(err)) return []
    throw new DnsaddrResolutionError(
      address.toString(),
      `the TXT lookup of _dnsaddr.${domain} failed (${(err as Error).message})`,
      { cause: err },
    )
  }

  const resolved: Multiaddr[] = []
  for (const answer of answers) {
    const entry = answer.data.replace(/["']/g, '').trim()
    if (!entry.startsWith('dnsaddr=')) continue
    let candidate: Multiaddr
    try {
      candidate = multiaddr(entry.slice('dnsaddr='.length))
    } catch {
      continue
    }
    const candidateComponents = candidate.getComponents()
    const candidatePeer = candidateComponents.findLast((c) => c.code === CODE_P2P)?.value
    if (peerId !== undefined) {
      // A nested /dnsaddr without a peer ID may still list our peer: look inside for it.
      if (candidateComponents[0]?.code === CODE_DNSADDR && candidatePeer === undefined) {
        candidate = candidate.encapsulate(`/p2p/${peerId}`)
      } else if (candidatePeer !== peerId) {
        continue
      }
    }
    resolved.push(...(await resolveAt(candidate, dns, options, depth + 1)))
  }
  return resolved
}

/** @multiformats/dns reports "the name has no such records" as a failure of every resolver. */
function isEmptyAnswer(err: unknown): boolean {
  const failure = err as { name?: unknown; errors?: unknown } | null
  return (
    failure?.name === 'DNSQueryFailedError' &&
    Array.isArray(failure.errors) &&
    failure.errors.length > 0 &&
    failure.errors.every((inner: { name?: unknown }) => inner?.name === 'EmptyDNSAnswerError')
  )
}
