import type { PinInfo } from '@pinraft/pintracker'
import type { Pin } from '@pinraft/state-pinset'

interface KnownPeer {
  peername: string
  ipfsPeerId: string
  ipfsPeerAddresses: readonly string[]
}

/**
 * What each peer said about itself last (1.x reads it from the ping metric), so that the entry
 * of a peer that did not answer, or was not asked, still names it and its IPFS node.
 */
export class KnownPeers {
  readonly #peerId: string
  readonly #peername: string
  readonly #known = new Map<string, KnownPeer>()

  constructor(peerId: string, peername: string) {
    this.#peerId = peerId
    this.#peername = peername
  }

  remember(info: PinInfo): void {
    if (info.status === 'cluster_error' && info.ipfsPeerId === '') return
    this.#known.set(info.peer, {
      peername: info.peername,
      ipfsPeerId: info.ipfsPeerId,
      ipfsPeerAddresses: info.ipfsPeerAddresses,
    })
  }

  /** 1.x's setTrackerStatus / the error entries of globalPinInfoCid. */
  entry(pin: Pin, peer: string, status: PinInfo['status'], timestamp: number, error = ''): PinInfo {
    const known = peer === this.#peerId ? undefined : this.#known.get(peer)
    return {
      cid: pin.cid,
      name: pin.name,
      peer,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peername: peer === this.#peerId ? this.#peername : (known?.peername ?? ''),
      ipfsPeerId: known?.ipfsPeerId ?? '',
      ipfsPeerAddresses: known?.ipfsPeerAddresses ?? [],
      status,
      timestamp,
      error,
      attemptCount: 0,
      priorityPin: false,
    }
  }
}
