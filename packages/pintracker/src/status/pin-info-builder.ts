import type { IpfsId } from '@pinraft/ipfs-connector'
import { type Pin, validatePin } from '@pinraft/state-pinset'
import { type Operation, operationStatus } from '../operation.ts'
import type { PinInfo } from '../pin-info.ts'
import type { TrackerConsensus } from '../tracker-consensus.ts'
import type { TrackerStatus } from '../tracker-status.ts'

/** Builds this peer's `PinInfo` lines: a pin's fields with a status. */
export class PinInfoBuilder {
  readonly #peerId: string
  readonly #peername: string
  readonly #consensus: TrackerConsensus

  constructor(peerId: string, peername: string, consensus: TrackerConsensus) {
    this.#peerId = peerId
    this.#peername = peername
    this.#consensus = consensus
  }

  operationInfo(operation: Operation, ipfs: IpfsId): PinInfo {
    // The pin's fields come from the pinset; an unpinned CID has only its CID.
    const pin = this.#consensus.state().get(operation.key) ?? validatePin({ cid: operation.key })
    return this.info(
      pin,
      ipfs,
      operationStatus(operation),
      operation.timestamp,
      operation.error,
      operation.priority,
      operation.attemptCount,
    )
  }

  info(
    pin: Pin,
    ipfs: IpfsId,
    status: TrackerStatus,
    timestamp: number | null,
    error = '',
    priorityPin = false,
    attemptCount = 0,
  ): PinInfo {
    return {
      cid: pin.cid,
      name: pin.name,
      peer: this.#peerId,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peername: this.#peername,
      ipfsPeerId: ipfs.id,
      ipfsPeerAddresses: ipfs.addresses,
      status,
      timestamp,
      error,
      attemptCount,
      priorityPin,
    }
  }
}
