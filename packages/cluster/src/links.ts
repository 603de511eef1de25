import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { Logger } from '@pinraft/raft-core'
import type { ClusterConsensus } from './components.ts'
import { buildConnectGraph } from './connect-graph.ts'
import { messageOf } from './error-message.ts'
import type { ConnectGraph } from './health.ts'
import { type ClusterHost, type PeerLinks, requestPeerLinks } from './rpc/cluster-protocol.ts'

export interface ClusterLinksComponents {
  readonly libp2p: ClusterHost
  readonly consensus: ClusterConsensus
  readonly connector: IpfsConnector
  readonly logger: Logger
}

export interface ClusterLinksInit {
  readonly peername: string
  /** How long a member has to answer with its links. */
  readonly peerTimeout: number
}

/**
 * Who this peer is connected to (what it answers to `links` over the cluster protocol), and
 * 1.x's ConnectGraph built from every member's answer.
 */
export class ClusterLinks {
  readonly #peerId: string
  readonly #peername: string
  readonly #libp2p: ClusterHost
  readonly #consensus: ClusterConsensus
  readonly #connector: IpfsConnector
  readonly #logger: Logger
  readonly #peerTimeout: number

  constructor(components: ClusterLinksComponents, init: ClusterLinksInit) {
    this.#peerId = components.consensus.peerId
    this.#peername = init.peername
    this.#libp2p = components.libp2p
    this.#consensus = components.consensus
    this.#connector = components.connector
    this.#logger = components.logger
    this.#peerTimeout = init.peerTimeout
  }

  /** 1.x's ConnectGraph: every member is asked for its links; one that cannot be has none. */
  async connectGraph(signal: AbortSignal): Promise<ConnectGraph> {
    const members = await this.#consensus.peers({ signal })
    return buildConnectGraph(
      this.#peerId,
      members,
      (peer) =>
        peer === this.#peerId
          ? this.local({ signal })
          : requestPeerLinks(this.#libp2p, peer, {
              signal: AbortSignal.any([signal, AbortSignal.timeout(this.#peerTimeout)]),
            }),
      (peer, error) =>
        this.#logger.debug('could not ask a peer for its links', {
          peer,
          error: messageOf(error),
        }),
    )
  }

  /** This peer's links: the members its host is connected to, and its IPFS node's peers. */
  async local(options: AbortOptions): Promise<PeerLinks> {
    const members = new Set(await this.#consensus.peers(options))
    const connected = new Set(
      this.#libp2p.getConnections().map((connection) => connection.remotePeer.toString()),
    )
    const clusterPeers = [...connected].filter((peer) => peer !== this.#peerId && members.has(peer))
    try {
      const id = await this.#connector.id(options)
      const ipfsPeers = await this.#connector.swarmPeers(options)
      return { peername: this.#peername, clusterPeers, ipfsId: id.id, ipfsPeers, ipfsError: '' }
    } catch (error) {
      options.signal?.throwIfAborted()
      return {
        peername: this.#peername,
        clusterPeers,
        ipfsId: '',
        ipfsPeers: [],
        ipfsError: messageOf(error) || 'the IPFS node did not answer',
      }
    }
  }
}
