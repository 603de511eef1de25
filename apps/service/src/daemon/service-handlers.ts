import { peerIdFromString } from '@libp2p/peer-id'
import type { Consensus } from '@pinraft/consensus'
import { type IdJson, idJson } from '../http/id-json.ts'
import type { LastErrorRecorder } from '../http/last-error.ts'
import { localRaftStatus } from '../http/raft-status-json.ts'
import { serviceVersion } from '../version.ts'
import type { ServiceLibp2p } from './libp2p-node.ts'
import type { ServiceHandlers } from './service-protocol.ts'

export interface ServiceHandlerComponents {
  readonly libp2p: ServiceLibp2p
  readonly consensus: Consensus
  readonly peerId: string
  readonly peername: string
  /** `consensus.raft.network_timeout`: how long a member is asked where it listens. */
  readonly networkTimeout: number
  readonly lastError: LastErrorRecorder
  /** This peer's own listen addresses. */
  selfAddresses(): string[]
  /** The addresses the peer store holds for a member. */
  peerAddresses(peerId: string): Promise<string[]>
  /** A member's own `/id`, asked over the service protocol. */
  remoteId(peerId: string, options?: { signal?: AbortSignal }): Promise<IdJson>
  /** This peer's IPFS node, as `GET /id` shows it. */
  ipfsId(): Promise<IdJson['ipfs']>
}

/** What this peer answers other peers on `/pinraft/service/1.0.0`: joins, its `/id`, its Raft status. */
export function serviceHandlers(components: ServiceHandlerComponents): ServiceHandlers {
  const { libp2p, consensus, peerId, peername, networkTimeout } = components
  return {
    join: async (joining, callOptions) => {
      await consensus.addPeer(joining, callOptions)
      const members = (await consensus.peers()).filter((member) => member !== joining)
      const known = await Promise.all(
        members.map(async (member) => {
          if (member === peerId) return components.selfAddresses()
          const addresses = await components.peerAddresses(member)
          if (addresses.length > 0 || libp2p.getConnections(peerIdFromString(member)).length === 0)
            return addresses
          // Connected but with no address in the peer store: the member says where it
          // listens, so that the joining peer can reach it.
          const timeout = AbortSignal.timeout(networkTimeout)
          return components
            .remoteId(member, {
              signal:
                callOptions.signal === undefined
                  ? timeout
                  : AbortSignal.any([callOptions.signal, timeout]),
            })
            .then((id) => id.addresses)
            .catch(() => [])
        }),
      )
      return known.flat()
    },
    // What `GET /id` answers locally, so remote entries of `GET /peers` carry the same
    // fields (their `cluster_peers_addresses` too), as in IPFS Cluster.
    id: async () => {
      const members = await consensus.peers()
      return idJson({
        id: peerId,
        addresses: components.selfAddresses(),
        cluster_peers: members,
        cluster_peers_addresses: (
          await Promise.all(
            members
              .filter((member) => member !== peerId)
              .map((member) => components.peerAddresses(member)),
          )
        ).flat(),
        version: serviceVersion,
        ipfs: await components.ipfsId(),
        peername,
      })
    },
    raftStatus: async () => localRaftStatus(consensus, peername, components.lastError.last()),
  }
}
