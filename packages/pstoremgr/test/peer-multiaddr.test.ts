import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import {
  type InvalidMultiaddrError,
  isDnsMultiaddr,
  parsePeerMultiaddr,
  withoutPeerId,
  withPeerId,
} from '../src/index.ts'

const RSA_ID = 'QmXZrtE5jQwXNqCJMfHUTQkvhQ4ZAnqMnmzFMJfLewuabc'
const ED_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function rejection(text: string): InvalidMultiaddrError {
  try {
    parsePeerMultiaddr(text)
  } catch (err) {
    expect((err as Error).name).toBe('InvalidMultiaddrError')
    return err as InvalidMultiaddrError
  }
  throw new Error(`${text} was accepted`)
}

describe('parsePeerMultiaddr', () => {
  it('splits an IP address ending in /p2p into the peer ID and the bare address', () => {
    const parsed = parsePeerMultiaddr(`/ip4/192.0.2.1/tcp/9096/p2p/${ED_ID}`)
    expect(parsed.type).toBe('peer')
    expect(parsed.peerId?.toString()).toBe(ED_ID)
    if (parsed.type !== 'peer') throw new Error('expected a peer address')
    expect(parsed.address.toString()).toBe('/ip4/192.0.2.1/tcp/9096')
    expect(parsed.multiaddr.toString()).toBe(`/ip4/192.0.2.1/tcp/9096/p2p/${ED_ID}`)
  })

  it('accepts the older /ipfs/<peer-id> and rewrites it to /p2p/', () => {
    const parsed = parsePeerMultiaddr(`/ip4/192.0.2.1/tcp/9096/ipfs/${RSA_ID}`)
    expect(parsed.peerId?.toString()).toBe(RSA_ID)
    expect(parsed.multiaddr.toString()).toBe(`/ip4/192.0.2.1/tcp/9096/p2p/${RSA_ID}`)
  })

  it.each([
    `/ip6/2001:db8::1/tcp/9096/p2p/${ED_ID}`,
    `/dns/cluster.example.com/tcp/9096/p2p/${ED_ID}`,
    `/dns4/cluster.example.com/tcp/9096/p2p/${ED_ID}`,
    `/dns6/cluster.example.com/udp/9096/quic-v1/p2p/${ED_ID}`,
    `/ip4/192.0.2.1/tcp/4001/p2p/${RSA_ID}/p2p-circuit/p2p/${ED_ID}`,
  ])('accepts %s', (text) => {
    const parsed = parsePeerMultiaddr(text)
    expect(parsed.type).toBe('peer')
    expect(parsed.peerId?.toString()).toBe(ED_ID)
    expect(parsed.multiaddr.toString()).toBe(text)
  })

  it('accepts /dnsaddr with or without a peer ID', () => {
    const bare = parsePeerMultiaddr('/dnsaddr/cluster.example.com')
    expect(bare).toMatchObject({ type: 'dnsaddr', peerId: undefined })
    const named = parsePeerMultiaddr(`/dnsaddr/cluster.example.com/p2p/${ED_ID}`)
    expect(named.type).toBe('dnsaddr')
    expect(named.peerId?.toString()).toBe(ED_ID)
  })

  it('ignores the whitespace around the text', () => {
    expect(parsePeerMultiaddr(`  /ip4/192.0.2.1/tcp/1/p2p/${ED_ID}\t`).multiaddr.toString()).toBe(
      `/ip4/192.0.2.1/tcp/1/p2p/${ED_ID}`,
    )
  })

  it.each([
    ['', 'it is empty'],
    ['ip4/192.0.2.1/tcp/1', 'does not start with /'],
    ['/ip4/300.0.2.1/tcp/1/p2p/X', 'not a valid multiaddr'],
    ['/ip4/192.0.2.1/tcp/9096', 'does not end in /p2p/<peer-id>'],
    [`/ip4/192.0.2.1/tcp/9096/p2p/${ED_ID}/p2p-circuit`, 'does not end in /p2p/<peer-id>'],
    [`/p2p/${ED_ID}`, 'no address before /p2p/<peer-id>'],
    [`/tcp/9096/p2p/${ED_ID}`, 'starts with /tcp instead of an address'],
    ['/ip4/192.0.2.1/tcp/9096/p2p/notapeer', '"notapeer" is not a peer ID'],
    [`/dnsaddr/cluster.example.com/tcp/1/p2p/${ED_ID}`, 'may only be followed by /p2p/<peer-id>'],
    ['/nosuchprotocol/1', 'not a valid multiaddr'],
  ])('rejects %j: %s', (text, reason) => {
    const err = rejection(text)
    expect(err.message).toContain(reason)
    expect(err.message).toContain(JSON.stringify(text))
    expect(err.message).toContain('expected a multiaddr ending in /p2p/<peer-id>')
    expect(err.text).toBe(text)
  })

  it('names the file and line of a rejected address', () => {
    try {
      parsePeerMultiaddr('/ip4/192.0.2.1/tcp/9096', { source: '/etc/cluster/peerstore', line: 7 })
      throw new Error('accepted')
    } catch (err) {
      const error = err as InvalidMultiaddrError
      expect(error.name).toBe('InvalidMultiaddrError')
      expect(error.message.startsWith('/etc/cluster/peerstore:7: ')).toBe(true)
      expect(error.line).toBe(7)
      expect(error.source).toBe('/etc/cluster/peerstore')
    }
  })

  it('parses a Multiaddr object as its text', () => {
    const parsed = parsePeerMultiaddr(multiaddr(`/dns4/a.example/tcp/1/p2p/${ED_ID}`))
    expect(parsed.multiaddr.toString()).toBe(`/dns4/a.example/tcp/1/p2p/${ED_ID}`)
  })
})

describe('address helpers', () => {
  it('tells DNS addresses from IP addresses', () => {
    expect(isDnsMultiaddr(multiaddr('/dns/a.example/tcp/1'))).toBe(true)
    expect(isDnsMultiaddr(multiaddr('/dns4/a.example/tcp/1'))).toBe(true)
    expect(isDnsMultiaddr(multiaddr('/dns6/a.example/tcp/1'))).toBe(true)
    expect(isDnsMultiaddr(multiaddr('/dnsaddr/a.example'))).toBe(true)
    expect(isDnsMultiaddr(multiaddr('/ip4/192.0.2.1/tcp/1'))).toBe(false)
    expect(isDnsMultiaddr(multiaddr('/ip6/::1/tcp/1'))).toBe(false)
  })

  it('adds and strips the trailing /p2p/<peer-id> once', () => {
    const peer = parsePeerMultiaddr(`/ip4/192.0.2.1/tcp/1/p2p/${ED_ID}`)
    if (peer.type !== 'peer') throw new Error('expected a peer address')
    const full = withPeerId(peer.address, peer.peerId)
    expect(full.toString()).toBe(`/ip4/192.0.2.1/tcp/1/p2p/${ED_ID}`)
    expect(withPeerId(full, peer.peerId).toString()).toBe(full.toString())
    expect(withoutPeerId(full).toString()).toBe('/ip4/192.0.2.1/tcp/1')
    expect(withoutPeerId(peer.address).toString()).toBe('/ip4/192.0.2.1/tcp/1')
  })
})
