import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger, RaftNode } from '@pinraft/raft-core'
import type { ApplyResult } from '@pinraft/state-pinset'
import { admitJoin } from './join-admission.ts'

export interface AdmitComponents {
  libp2p: Pick<Libp2p, 'getConnections' | 'peerStore'>
  logger: Logger
  /** Peers this leader is adding: allowed to talk Raft before the change applies. */
  joining: Set<string>
  allowList: readonly string[]
  /** Called after `joining` changed, to update who may talk Raft to this peer. */
  onJoiningChange(): void
}

/**
 * The leader's side of a join: admission (allow-list, one at a time), a warning naming the
 * peer and its addresses, then the change. A member that lost its state is removed and added
 * again: only that resets the leader's record of what it holds (otherwise the leader keeps
 * probing above what the wiped peer has and never sends it a snapshot), and it rejoins as
 * staging, outside the quorum until it has caught up (see `openRaft` on why it must not vote).
 * Removing it first costs no availability: without its log it could not help a quorum anyway.
 */
export async function admitPeer(
  components: AdmitComponents,
  node: RaftNode<ApplyResult>,
  peerId: string,
  freshState: boolean,
  from: string,
  signal: AbortSignal,
): Promise<void> {
  const decision = admitJoin({
    peerId,
    freshState,
    configuration: node.configuration,
    joining: components.joining,
    allowList: components.allowList,
  })
  if (decision.kind === 'member') return
  components.joining.add(peerId)
  components.onJoiningChange()
  try {
    const addresses = await addressesOf(components, peerId)
    if (decision.kind === 'rejoin') {
      components.logger.warn(
        'a member without Raft state is rejoining: removing it and adding it again as staging',
        { peerId, addresses, requestedBy: from },
      )
      await node.removeServer(peerId, { signal })
    } else {
      components.logger.warn('a peer is joining the cluster', {
        peerId,
        addresses,
        requestedBy: from,
      })
    }
    await node.addVoter(peerId, { signal })
    components.logger.debug('join in force: the peer catches up as staging', { peerId })
  } finally {
    components.joining.delete(peerId)
    components.onJoiningChange()
  }
}

/** The addresses this peer knows for `peerId`: its open connections, else the peer store. */
async function addressesOf(components: AdmitComponents, peerId: string): Promise<string[]> {
  try {
    const id = peerIdFromString(peerId)
    const connected = components.libp2p
      .getConnections(id)
      .map((connection) => connection.remoteAddr)
    if (connected.length > 0) return connected.map((address) => address.toString())
    const known = await components.libp2p.peerStore.get(id)
    return known.addresses.map((address) => address.multiaddr.toString())
  } catch {
    return []
  }
}
