import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import {
  formatPeerstoreFile,
  type InvalidMultiaddrError,
  parsePeerstoreFile,
} from '../src/index.ts'

const A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const B = 'QmXZrtE5jQwXNqCJMfHUTQkvhQ4ZAnqMnmzFMJfLewuabc'

describe('parsePeerstoreFile', () => {
  it('reads one multiaddr per line and skips blank lines and # comments', () => {
    const content = [
      '# cluster peers',
      '',
      `/ip4/192.0.2.1/tcp/9096/p2p/${A}`,
      '   ',
      `  # indented comment`,
      `/dns4/b.example.com/tcp/9096/ipfs/${B}   # trailing comment`,
      '/dnsaddr/cluster.example.com',
      '',
    ].join('\n')
    const entries = parsePeerstoreFile(content)
    expect(entries.map((entry) => entry.line)).toEqual([3, 6, 7])
    expect(entries.map((entry) => entry.peer.multiaddr.toString())).toEqual([
      `/ip4/192.0.2.1/tcp/9096/p2p/${A}`,
      `/dns4/b.example.com/tcp/9096/p2p/${B}`,
      '/dnsaddr/cluster.example.com',
    ])
  })

  it('reads Windows line endings and a byte-order mark', () => {
    const content = `\uFEFF/ip4/192.0.2.1/tcp/1/p2p/${A}\r\n/ip4/192.0.2.2/tcp/1/p2p/${B}\r\n`
    expect(parsePeerstoreFile(content).map((entry) => entry.peer.peerId?.toString())).toEqual([
      A,
      B,
    ])
  })

  it('reads an empty file as no peers', () => {
    expect(parsePeerstoreFile('')).toEqual([])
    expect(parsePeerstoreFile('\n# nothing yet\n')).toEqual([])
  })

  it('names the file and the line of the first bad line', () => {
    const content = `# peers\n/ip4/192.0.2.1/tcp/1/p2p/${A}\n\n/ip4/192.0.2.2/tcp/1\n/garbage\n`
    let error: InvalidMultiaddrError | undefined
    try {
      parsePeerstoreFile(content, { source: 'peerstore' })
    } catch (err) {
      error = err as InvalidMultiaddrError
    }
    expect(error?.name).toBe('InvalidMultiaddrError')
    expect(error?.line).toBe(4)
    expect(error?.message).toMatch(
      /^peerstore:4: invalid peer multiaddr "\/ip4\/192.0.2.2\/tcp\/1"/,
    )
    expect(error?.message).toContain('/p2p/<peer-id>')
  })

  it('names the line even without a file name', () => {
    expect(() => parsePeerstoreFile(`/ip4/192.0.2.1/tcp/1/p2p/${A}\nnot-a-multiaddr`)).toThrow(
      /^line 2: invalid peer multiaddr "not-a-multiaddr"/,
    )
  })
})

describe('formatPeerstoreFile', () => {
  it('writes one multiaddr per line that parses back to the same addresses', () => {
    const addresses = [
      `/ip4/192.0.2.1/tcp/9096/p2p/${A}`,
      multiaddr(`/dns4/b.example.com/tcp/9096/p2p/${B}`),
      '/dnsaddr/cluster.example.com',
    ]
    const content = formatPeerstoreFile(addresses)
    expect(content).toBe(`${addresses.map(String).join('\n')}\n`)
    expect(parsePeerstoreFile(content).map((entry) => entry.peer.multiaddr.toString())).toEqual(
      addresses.map(String),
    )
  })

  it('writes nothing for no peers', () => {
    expect(formatPeerstoreFile([])).toBe('')
  })

  it('refuses an address that would not load again', () => {
    expect(() => formatPeerstoreFile(['/ip4/192.0.2.1/tcp/9096'])).toThrow(
      expect.objectContaining({ name: 'InvalidMultiaddrError' }),
    )
  })
})
