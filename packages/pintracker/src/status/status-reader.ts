import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector, IpfsId } from '@pinraft/ipfs-connector'
import type { Clock } from '@pinraft/raft-core'
import { cidKey, type Pin, parseCid, validatePin } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import { isAllocatedTo } from '../allocation.ts'
import type { StatelessConfiguration } from '../configuration.ts'
import { messageOf } from '../error-message.ts'
import type { IpfsIdentity } from '../ipfs-identity.ts'
import type { Operation } from '../operation.ts'
import type { PinInfo } from '../pin-info.ts'
import type { TrackerConsensus } from '../tracker-consensus.ts'
import { matchesFilter, type StatusFilter, type TrackerStatus } from '../tracker-status.ts'
import { type IpfsPinListing, listIpfsPins } from './ipfs-pin-listing.ts'
import { PinInfoBuilder } from './pin-info-builder.ts'
import { newWalk, type PinsetWalks, type WalkState } from './pinset-walks.ts'

/** 1.x's error string for a pin the state says is here and IPFS does not hold. */
export const unexpectedlyUnpinnedError = 'the item should be pinned but it is not'

/**
 * How long statusAll waits for the IPFS pin lists before it answers lines one CID at a time:
 * short enough for a first line within 100 ms, long enough that a small pinset is never asked
 * about per CID.
 */
const listHeadStart = 20

export interface StatusAllOptions extends AbortOptions {
  readonly filter?: StatusFilter
}

export interface StatusReaderComponents {
  readonly connector: IpfsConnector
  readonly consensus: TrackerConsensus
  readonly peerId: string
  readonly peername: string
  readonly configuration: StatelessConfiguration
  readonly clock: Clock
  readonly identity: IpfsIdentity
  /** The operation runner's operations: queued, running or failed. */
  readonly operations: ReadonlyMap<string, Operation>
  readonly walks: PinsetWalks
}

/**
 * This peer's status of CIDs (1.x's Status and StatusAll): the operation on a CID if there is
 * one, else the pinset joined with the IPFS node's pins.
 */
export class StatusReader {
  readonly #connector: IpfsConnector
  readonly #consensus: TrackerConsensus
  readonly #peerId: string
  readonly #configuration: StatelessConfiguration
  readonly #clock: Clock
  readonly #identity: IpfsIdentity
  readonly #operations: ReadonlyMap<string, Operation>
  readonly #walks: PinsetWalks
  readonly #infos: PinInfoBuilder

  constructor(components: StatusReaderComponents) {
    this.#connector = components.connector
    this.#consensus = components.consensus
    this.#peerId = components.peerId
    this.#configuration = components.configuration
    this.#clock = components.clock
    this.#identity = components.identity
    this.#operations = components.operations
    this.#walks = components.walks
    this.#infos = new PinInfoBuilder(components.peerId, components.peername, components.consensus)
  }

  /** See `StatelessTracker.status`. */
  async status(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    const key = cid.toString()
    const operation = this.#operations.get(key)
    const ipfs = await this.#identity.read(options)
    if (operation !== undefined) return this.#infos.operationInfo(operation, ipfs)
    const now = this.#clock.now()
    const pin = this.#consensus.state().get(key)
    if (pin === undefined) {
      return this.#infos.info(validatePin({ cid }), ipfs, 'unpinned', now, '', false)
    }
    if (pin.type === 'meta-pin') return this.#infos.info(pin, ipfs, 'sharded', pin.timestamp)
    if (!isAllocatedTo(pin, this.#peerId)) {
      return this.#infos.info(pin, ipfs, 'remote', pin.timestamp)
    }
    try {
      const type = await this.#connector.pinLsCid(pin.cid, options)
      if (type === 'recursive' || type === 'direct') {
        return this.#infos.info(pin, ipfs, 'pinned', pin.timestamp)
      }
      if (this.#walks.notYetReached(pin, null)) return this.#pendingInfo(pin, ipfs)
      return this.#infos.info(
        pin,
        ipfs,
        'unexpectedly_unpinned',
        pin.timestamp,
        unexpectedlyUnpinnedError,
      )
    } catch (error) {
      options?.signal?.throwIfAborted()
      return this.#infos.info(pin, ipfs, 'cluster_error', pin.timestamp, messageOf(error))
    }
  }

  /** See `StatelessTracker.statusAll`. */
  async *statusAll(options: StatusAllOptions = {}): AsyncGenerator<PinInfo> {
    const filter = options.filter ?? null
    const ipfs = await this.#identity.read(options)
    // Pins a pass has yet to queue read pin_queued from the pinset and IPFS, not an operation.
    const wantsPending = this.#walks.passRunning && (filter === null || filter.has('pin_queued'))
    const wantsStateStatus =
      filter === null ||
      filter.has('pinned') ||
      filter.has('unexpectedly_unpinned') ||
      filter.has('sharded') ||
      filter.has('remote')
    if (!wantsStateStatus && wantsPending) {
      yield* this.#withPending(filter, ipfs, options)
      return
    }
    if (!wantsStateStatus) {
      const operations = [...this.#operations.values()]
        .map((operation) => ({ operation, order: cidKey(parseCid(operation.key)) }))
        .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
      for (const { operation } of operations) {
        options.signal?.throwIfAborted()
        // It may have finished while earlier entries were read.
        if (this.#operations.get(operation.key) !== operation) continue
        const info = this.#infos.operationInfo(operation, ipfs)
        if (matchesFilter(info.status, filter)) yield info
      }
      return
    }
    const wantsIpfs =
      filter === null || filter.has('pinned') || filter.has('unexpectedly_unpinned') || wantsPending
    yield* this.walked(filter, ipfs, wantsIpfs, options)
  }

  /** A walk over the pinset, registered so that pins finishing ahead of it count as pinned. */
  async *walked(
    filter: StatusFilter,
    ipfs: IpfsId,
    wantsIpfs: boolean,
    options: StatusAllOptions,
    walk: WalkState = newWalk(),
  ): AsyncGenerator<PinInfo> {
    this.#walks.add(walk)
    try {
      yield* this.#walk(filter, ipfs, wantsIpfs, walk, options)
    } finally {
      this.#walks.delete(walk)
    }
  }

  /**
   * An operation-status filter that takes `pin_queued` while a pass runs: the operations, merged
   * in CID order with the pins the pass has yet to queue (those are read from the pinset).
   */
  async *#withPending(
    filter: StatusFilter,
    ipfs: IpfsId,
    options: StatusAllOptions,
  ): AsyncGenerator<PinInfo> {
    const state = this.#consensus.state()
    // The walk lists the operations on pins of the pinset; these are the others (unpins).
    const outside = [...this.#operations.values()]
      .filter((operation) => !state.has(operation.key))
      .map((operation) => ({ operation, order: cidKey(parseCid(operation.key)) }))
      .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0))
    let next = 0
    const drain = function* (this: StatusReader, before: string | null): Generator<PinInfo> {
      while (next < outside.length) {
        const { operation, order } = outside[next]!
        if (before !== null && order >= before) return
        next++
        if (this.#operations.get(operation.key) !== operation) continue
        const info = this.#infos.operationInfo(operation, ipfs)
        if (matchesFilter(info.status, filter)) yield info
      }
    }
    for await (const info of this.walked(filter, ipfs, true, options)) {
      if (next < outside.length) yield* drain.call(this, cidKey(info.cid))
      yield info
    }
    yield* drain.call(this, null)
  }

  async *#walk(
    filter: StatusFilter,
    ipfs: IpfsId,
    wantsIpfs: boolean,
    walk: WalkState,
    options: StatusAllOptions,
  ): AsyncGenerator<PinInfo> {
    const listing = wantsIpfs ? listIpfsPins(this.#connector, options) : null
    try {
      // A small pinset's lists are in before the first line: nothing is asked per CID then.
      if (listing !== null) await listing.settledWithin(listHeadStart)
      for await (const pin of this.#consensus.state().list({ signal: options.signal })) {
        const info = await this.#walkStatus(pin, filter, ipfs, listing, walk, options)
        if (info !== null) yield info
        // Set once the consumer is done with the pin: a pass has queued it by then.
        walk.last = pin
      }
    } finally {
      listing?.abort()
    }
  }

  /** One line of a walk, or null when the filter leaves it out. */
  async #walkStatus(
    pin: Pin,
    filter: StatusFilter,
    ipfs: IpfsId,
    listing: IpfsPinListing | null,
    walk: WalkState,
    options: StatusAllOptions,
  ): Promise<PinInfo | null> {
    // Building a CID's string is the walk's main cost: skip it when nothing is in flight.
    const operation =
      this.#operations.size === 0 ? undefined : this.#operations.get(pin.cid.toString())
    if (operation !== undefined) {
      const info = this.#infos.operationInfo(operation, ipfs)
      return matchesFilter(info.status, filter) ? info : null
    }
    let status: TrackerStatus
    let error = ''
    if (pin.type === 'meta-pin') status = 'sharded'
    else if (!isAllocatedTo(pin, this.#peerId)) status = 'remote'
    else if (listing === null) return null
    else {
      // Awaited only when it is a promise: an await per line is a walk's main cost.
      const answer = listing.holds(pin.cid, options)
      if (typeof answer === 'boolean' ? answer : await answer) status = 'pinned'
      else if (walk.pinnedDuring.has(pin.cid.toString())) {
        // Pinned after the list was read (an operation finished meanwhile): not lost.
        status = 'pinned'
      } else if (this.#walks.notYetReached(pin, walk)) {
        return matchesFilter('pin_queued', filter) ? this.#pendingInfo(pin, ipfs) : null
      } else {
        status = 'unexpectedly_unpinned'
        error = unexpectedlyUnpinnedError
      }
    }
    return matchesFilter(status, filter)
      ? this.#infos.info(pin, ipfs, status, pin.timestamp, error)
      : null
  }

  /** The status of a pin the pass will queue: what its operation will show once queued. */
  #pendingInfo(pin: Pin, ipfs: IpfsId): PinInfo {
    const began = this.#walks.passBegan ?? this.#clock.now()
    const priority =
      pin.timestamp !== null && began < pin.timestamp + this.#configuration.priorityPinMaxAge
    return this.#infos.info(pin, ipfs, 'pin_queued', began, '', priority)
  }
}
