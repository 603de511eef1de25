import type { Multiaddr } from '@multiformats/multiaddr'
import { type PeerMultiaddr, parsePeerMultiaddr } from './peer-multiaddr.ts'

/** A parsed line of a peerstore file, with the line it came from. */
export interface PeerstoreEntry {
  /** 1-based line number. */
  line: number
  peer: PeerMultiaddr
}

/** A comment runs from a `#` at the start of a line, or after whitespace, to the end of it. */
const TRAILING_COMMENT = /\s+#.*$/

/**
 * Parses the text of a peerstore file: one multiaddr per line, each ending in /p2p/<peer-id>
 * (or a /dnsaddr/<domain>); blank lines and `#` comments are ignored. The first bad line throws
 * `InvalidMultiaddrError` naming `source` and the line number.
 */
export function parsePeerstoreFile(
  content: string,
  options: { source?: string } = {},
): PeerstoreEntry[] {
  const entries: PeerstoreEntry[] = []
  // A byte-order mark is invisible in editors; it must not make the first line invalid.
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const text = raw.replace(TRAILING_COMMENT, '').trim()
    if (text === '' || text.startsWith('#')) continue
    const where =
      options.source === undefined
        ? { line: index + 1 }
        : { source: options.source, line: index + 1 }
    entries.push({ line: index + 1, peer: parsePeerMultiaddr(text, where) })
  }
  return entries
}

/**
 * Formats multiaddrs as a peerstore file, one per line. Each is validated first, so a file
 * written here always loads again.
 */
export function formatPeerstoreFile(multiaddrs: ReadonlyArray<Multiaddr | string>): string {
  return multiaddrs.map((address) => `${parsePeerMultiaddr(address).multiaddr}\n`).join('')
}
