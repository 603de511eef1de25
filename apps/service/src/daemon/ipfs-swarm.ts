import type { Consensus } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { IdJson } from '../http/id-json.ts'
import type { Logger } from '../logging/logger.ts'

export interface IpfsSwarmInit {
  readonly connector: IpfsConnector
  readonly consensus: Consensus
  readonly selfPeerId: string
  /** Another cluster peer's `/id` (over the service protocol): its `ipfs.addresses` are dialed. */
  remoteId(peerId: string, options?: { signal?: AbortSignal }): Promise<IdJson>
  /** `connect_swarms_delay`: how long after start the first round waits. */
  readonly delay: number
  readonly timeout: number
  readonly logger: Logger
}

const retries = 5

/**
 * IPFS Cluster's IPFSConnectSwarms: this peer's IPFS node connects to the IPFS nodes of the
 * other cluster peers, once `connect_swarms_delay` after start and again whenever a peer joins,
 * so that bitswap finds the cluster's content inside the cluster. Returns a stop function.
 */
export function connectIpfsSwarms(init: IpfsSwarmInit): () => void {
  const { connector, consensus, logger } = init
  const controller = new AbortController()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (milliseconds: number, run: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (!controller.signal.aborted) run()
    }, milliseconds)
    timers.add(timer)
  }

  /** Connects to one peer's IPFS node; a peer that cannot say yet is asked again, a few times. */
  const connectPeer = (peerId: string, attempt = 0): void => {
    void (async () => {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(init.timeout)])
      const id = await init.remoteId(peerId, { signal })
      if (id.ipfs.error !== '' || id.ipfs.addresses.length === 0) {
        throw new Error(id.ipfs.error || 'its IPFS node has no addresses')
      }
      await connector.connectSwarms(id.ipfs.addresses, { signal })
      logger.debug(
        { peer: peerId, addresses: id.ipfs.addresses },
        'connected to a peer’s IPFS node',
      )
    })().catch((error: unknown) => {
      if (controller.signal.aborted) return
      if (attempt + 1 < retries) {
        later(1000 * 2 ** attempt, () => connectPeer(peerId, attempt + 1))
        return
      }
      logger.warn(
        { peer: peerId, error: (error as Error).message },
        'could not connect to a peer’s IPFS node',
      )
    })
  }

  const connectAll = (): void => {
    void consensus
      .peers({ signal: controller.signal })
      .then((peers) => {
        for (const peer of peers) if (peer !== init.selfPeerId) connectPeer(peer)
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted)
          logger.warn(
            { error: (error as Error).message },
            'could not list the peers to connect IPFS nodes',
          )
      })
  }

  const onPeerAdd = (event: CustomEvent<{ peerId: string }>): void => {
    if (event.detail.peerId !== init.selfPeerId) connectPeer(event.detail.peerId)
    // A joining peer learns the others from its own round below.
  }
  consensus.addEventListener('peer:add', onPeerAdd)
  later(init.delay, connectAll)
  return () => {
    controller.abort()
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    consensus.removeEventListener('peer:add', onPeerAdd)
  }
}
