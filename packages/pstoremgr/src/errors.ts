/**
 * Every error @pinraft/pstoremgr raises. Each has a stable `name` to test against
 * (`err.name === 'InvalidMultiaddrError'`) and a message that says what was wrong and what to do.
 */

/** Where a rejected multiaddr came from, so the message can point at it. */
export interface MultiaddrSource {
  /** The file (or flag) the text was read from. */
  source?: string
  /** 1-based line number in that file. */
  line?: number
}

/**
 * A multiaddr is malformed or does not name a peer. It quotes the text and, when read from a
 * file, names the file and line.
 */
export class InvalidMultiaddrError extends Error {
  static readonly code = 'InvalidMultiaddrError'
  override readonly name = 'InvalidMultiaddrError'
  readonly text: string
  readonly source: string | undefined
  readonly line: number | undefined
  constructor(text: string, reason: string, where: MultiaddrSource = {}, options?: ErrorOptions) {
    super(
      `${describePlace(where)}invalid peer multiaddr ${JSON.stringify(text)}: ${reason}; expected a multiaddr ` +
        'ending in /p2p/<peer-id> (or /ipfs/<peer-id>; a /dnsaddr/<domain> may omit it), such as ' +
        '/ip4/192.0.2.1/tcp/9096/p2p/12D3KooW… or /dns4/cluster.example.com/tcp/9096/p2p/12D3KooW…',
      options,
    )
    this.text = text
    this.source = where.source
    this.line = where.line
  }
}

function describePlace(where: MultiaddrSource): string {
  if (where.source !== undefined && where.line !== undefined)
    return `${where.source}:${where.line}: `
  if (where.line !== undefined) return `line ${where.line}: `
  if (where.source !== undefined) return `${where.source}: `
  return ''
}

/** The peerstore file could not be read or written; `cause` holds the system error. */
export class PeerstoreFileError extends Error {
  static readonly code = 'PeerstoreFileError'
  override readonly name = 'PeerstoreFileError'
  readonly path: string
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`peerstore file ${path}: ${message}`, options)
    this.path = path
  }
}

/** A /dnsaddr multiaddr could not be resolved, or resolved to nothing usable. */
export class DnsaddrResolutionError extends Error {
  static readonly code = 'DnsaddrResolutionError'
  override readonly name = 'DnsaddrResolutionError'
  readonly multiaddr: string
  constructor(multiaddr: string, message: string, options?: ErrorOptions) {
    super(`could not resolve ${multiaddr}: ${message}`, options)
    this.multiaddr = multiaddr
  }
}

/** A peer could not be dialed: it has no known address, or every address failed. */
export class PeerDialError extends Error {
  static readonly code = 'PeerDialError'
  override readonly name = 'PeerDialError'
  readonly peerId: string
  constructor(peerId: string, message: string, options?: ErrorOptions) {
    super(`could not connect to ${peerId}: ${message}`, options)
    this.peerId = peerId
  }
}
