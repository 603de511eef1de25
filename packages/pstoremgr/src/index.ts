/**
 * @packageDocumentation
 *
 * Keeps the addresses of IPFS Cluster peers in a js-libp2p peer store and in the peerstore
 * file, as IPFS Cluster's `pstoremgr` does since the peers and bootstrap keys left its
 * configuration.
 */
import type { Libp2p } from '@libp2p/interface'
import {
  PeerstoreManager,
  type PeerstoreManagerComponents,
  type PeerstoreManagerInit,
} from './peerstore-manager.ts'

export { resolveDnsaddr } from './dnsaddr.ts'
export * from './errors.ts'
export { ADDRESSES_KEY, PRIORITY_KEY } from './peer-metadata.ts'
export {
  isDnsMultiaddr,
  type PeerMultiaddr,
  parsePeerMultiaddr,
  withoutPeerId,
  withPeerId,
} from './peer-multiaddr.ts'
export { loadPeerstoreFile, savePeerstoreFile } from './peerstore-file.ts'
export { formatPeerstoreFile, type PeerstoreEntry, parsePeerstoreFile } from './peerstore-format.ts'
export {
  type BootstrapResult,
  type ImportFailure,
  type ImportOptions,
  type ImportResult,
  type PeerDialer,
  PeerstoreManager,
  type PeerstoreManagerComponents,
  type PeerstoreManagerEvents,
  type PeerstoreManagerInit,
} from './peerstore-manager.ts'

/**
 * js-libp2p style factory: `pstoreManager(init)(components)`. It also fits libp2p's
 * `services` map, whose components carry `peerId`, `peerStore`, `connectionManager`, `logger`.
 */
export function pstoreManager(
  init: PeerstoreManagerInit = {},
): (components: PeerstoreManagerComponents) => PeerstoreManager {
  return (components) => new PeerstoreManager(components, init)
}

/** The components a manager needs, taken from a running libp2p node. */
export function componentsFromLibp2p(node: Libp2p): PeerstoreManagerComponents {
  return {
    peerId: node.peerId,
    peerStore: node.peerStore,
    connectionManager: {
      openConnection: (target, options) => node.dial(target, options),
      getConnections: (peerId) => node.getConnections(peerId),
    },
    logger: node.logger,
  }
}
