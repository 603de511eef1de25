import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { resolveDnsaddr } from '../src/index.ts'
import { fakeDns } from './fixtures.ts'

const A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const B = 'QmXZrtE5jQwXNqCJMfHUTQkvhQ4ZAnqMnmzFMJfLewuabc'

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('resolveDnsaddr', () => {
  it('lists the multiaddrs of the _dnsaddr TXT records, skipping other records', async () => {
    const dns = fakeDns({
      '_dnsaddr.cluster.example': [
        `"dnsaddr=/ip4/192.0.2.1/tcp/9096/p2p/${A}"`,
        `dnsaddr=/dns4/b.cluster.example/tcp/9096/p2p/${B}`,
        'v=spf1 -all',
        'dnsaddr=not a multiaddr',
      ],
    })
    const resolved = await resolveDnsaddr(multiaddr('/dnsaddr/cluster.example'), dns)
    expect(resolved.map(String)).toEqual([
      `/ip4/192.0.2.1/tcp/9096/p2p/${A}`,
      `/dns4/b.cluster.example/tcp/9096/p2p/${B}`,
    ])
    expect(dns.queries).toEqual(['_dnsaddr.cluster.example'])
  })

  it('keeps only the named peer when the multiaddr ends in /p2p', async () => {
    const dns = fakeDns({
      '_dnsaddr.cluster.example': [
        `dnsaddr=/ip4/192.0.2.1/tcp/9096/p2p/${A}`,
        `dnsaddr=/ip4/192.0.2.2/tcp/9096/p2p/${B}`,
      ],
    })
    const resolved = await resolveDnsaddr(multiaddr(`/dnsaddr/cluster.example/p2p/${B}`), dns)
    expect(resolved.map(String)).toEqual([`/ip4/192.0.2.2/tcp/9096/p2p/${B}`])
  })

  it('follows nested /dnsaddr records', async () => {
    const dns = fakeDns({
      '_dnsaddr.cluster.example': ['dnsaddr=/dnsaddr/eu.cluster.example'],
      '_dnsaddr.eu.cluster.example': [`dnsaddr=/ip6/2001:db8::1/tcp/9096/p2p/${A}`],
    })
    const resolved = await resolveDnsaddr(multiaddr(`/dnsaddr/cluster.example/p2p/${A}`), dns)
    expect(resolved.map(String)).toEqual([`/ip6/2001:db8::1/tcp/9096/p2p/${A}`])
  })

  it('stops a loop of /dnsaddr records with a DnsaddrResolutionError', async () => {
    const dns = fakeDns({ '_dnsaddr.loop.example': ['dnsaddr=/dnsaddr/loop.example'] })
    const error = await caught(resolveDnsaddr(multiaddr('/dnsaddr/loop.example'), dns))
    expect(error.name).toBe('DnsaddrResolutionError')
    expect(error.message).toContain('nested /dnsaddr')
  })

  it('resolves a name without records to nothing', async () => {
    const dns = fakeDns({})
    expect(await resolveDnsaddr(multiaddr('/dnsaddr/empty.example'), dns)).toEqual([])
  })

  it('reports a failed lookup as a DnsaddrResolutionError', async () => {
    const dns = fakeDns({}, ['_dnsaddr.down.example'])
    const error = await caught(resolveDnsaddr(multiaddr('/dnsaddr/down.example'), dns))
    expect(error.name).toBe('DnsaddrResolutionError')
    expect(error.message).toContain('_dnsaddr.down.example')
  })
})
