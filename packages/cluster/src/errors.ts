/**
 * The errors `@pinraft/cluster` raises, each with a stable `name` (tests compare it; the HTTP
 * layer maps names to status codes). Messages say what was wrong and what to do.
 */

/** An unpin (or unpin by path) of a CID that is not in the pinset. */
export class PinNotFoundError extends Error {
  static readonly code = 'PinNotFoundError'
  override readonly name = 'PinNotFoundError'
}

/** An IPFS path (`/ipfs/…`, `/ipns/…`, `/ipld/…`) that the IPFS node could not resolve. */
export class PathResolveError extends Error {
  static readonly code = 'PathResolveError'
  override readonly name = 'PathResolveError'
}

/** A peer answered a cluster RPC with an error, or with something that is not the protocol. */
export class PeerRpcError extends Error {
  static readonly code = 'PeerRpcError'
  override readonly name = 'PeerRpcError'
  /** The `name` of the error on the remote peer. */
  readonly remoteName: string
  constructor(message: string, remoteName = 'Error') {
    super(message)
    this.remoteName = remoteName
  }
}

/** The cluster component is stopped. */
export class ClusterStoppedError extends Error {
  static readonly code = 'ClusterStoppedError'
  override readonly name = 'ClusterStoppedError'
  constructor() {
    super('the cluster component is stopped; this peer is shutting down')
  }
}

/**
 * Pin options the cluster refuses before anything is committed (1.x's setupPin and PinUpdate
 * checks): an expiry in the past, a recursive pin re-pinned as direct, a pin type that cannot
 * be updated. The message is 1.x's.
 */
export class PinOptionsError extends Error {
  static readonly code = 'PinOptionsError'
  override readonly name = 'PinOptionsError'
}
