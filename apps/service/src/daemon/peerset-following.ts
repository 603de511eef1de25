import { peerIdFromString } from '@libp2p/peer-id'
import type { Consensus } from '@pinraft/consensus'
import type { Logger } from '../logging/logger.ts'
import type { ServiceLibp2p } from './libp2p-node.ts'
import {
  learnMemberAddresses,
  type MemberAddressesComponents,
  startMemberAddressExchange,
} from './member-addresses.ts'
import { requestId } from './service-protocol.ts'

export interface PeersetFollowingComponents {
  readonly libp2p: ServiceLibp2p
  readonly consensus: Consensus
  readonly peerId: string
  /** `consensus.raft.network_timeout`: bounds the first exchange and each call of the later ones. */
  readonly networkTimeout: number
  readonly logger: Logger
}

export interface PeersetFollowing {
  /** Saves the peerstore file for the current peerset (in the background; failures are logged). */
  savePeerstore(): void
  stop(): void
}

/** How often members exchange the addresses they know of each other. */
const exchangeInterval = 10_000

/**
 * Keeps this peer's address book following the peerset. Members that cannot dial each other (a
 * join answered before a member was known) learn the addresses from the members they are
 * connected to: once before this resolves (so before the peer says it is ready), then every
 * 10 s and soon after each member is added. The peerstore file is saved on every change of the
 * peerset, as IPFS Cluster does.
 */
export async function followPeerset(
  components: PeersetFollowingComponents,
): Promise<PeersetFollowing> {
  const { libp2p, consensus, networkTimeout, logger } = components
  const pstore = libp2p.services.pstore
  const memberAddresses: MemberAddressesComponents = {
    peerId: components.peerId,
    members: (callOptions) => consensus.peers(callOptions),
    knownAddresses: (peerId) => pstore.peerAddresses(peerId).catch(() => []),
    connected: (peerId) => libp2p.getConnections(peerId).length > 0,
    requestId: (peerId, callOptions) => requestId(libp2p, peerId, callOptions),
    importAddresses: async (addresses, callOptions) => {
      await pstore.importPeers(addresses, { connect: true, signal: callOptions.signal })
    },
    logger,
  }
  await learnMemberAddresses(memberAddresses, {
    signal: AbortSignal.timeout(networkTimeout),
    callTimeout: networkTimeout,
  }).catch((error: unknown) =>
    logger.debug({ err: error }, "could not learn the members' addresses before starting"),
  )
  const addressExchange = startMemberAddressExchange(memberAddresses, {
    interval: exchangeInterval,
    callTimeout: networkTimeout,
  })
  const kickAddressExchange = () => addressExchange.kick()
  consensus.addEventListener('peer:add', kickAddressExchange)

  const savePeerstore = () => {
    void consensus
      .peers()
      .then((peers) => pstore.savePeerstoreForPeers(peers.map((peer) => peerIdFromString(peer))))
      .catch((error: unknown) => {
        // Stopping: the file was saved by the peerstore manager's own stop.
        if ((error as Error).name === 'ConsensusShutdownError') return
        logger.warn({ err: error }, 'could not save the peerstore file')
      })
  }
  consensus.addEventListener('peer:add', savePeerstore)
  consensus.addEventListener('peer:remove', savePeerstore)
  return { savePeerstore, stop: () => addressExchange.stop() }
}
