import type { AbortOptions, ConsensusEvents, PinsetView } from '@pinraft/consensus'
import type { IpfsConnector, IpfsId } from '@pinraft/ipfs-connector'
import { type Clock, type Logger, silentLogger, systemClock } from '@pinraft/raft-core'
import { cidKey, cidText, type Pin, parseCid, validatePin } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import { defaultStatelessConfiguration, type StatelessConfiguration } from './configuration.ts'
import { FullQueueError, TrackerStoppedError } from './errors.ts'
import {
  cancelOperation,
  type Operation,
  type OperationPhase,
  type OperationType,
  operationStatus,
} from './operation.ts'
import { OperationQueue } from './operation-queue.ts'
import type { PinInfo } from './pin-info.ts'
import { matchesFilter, type StatusFilter, type TrackerStatus } from './tracker-status.ts'

/** 1.x's error string for a pin the state says is here and IPFS does not hold. */
export const unexpectedlyUnpinnedError = 'the item should be pinned but it is not'

/** What the tracker needs from consensus: the applied operations and the pinset. */
export interface TrackerConsensus {
  addEventListener<K extends 'pin:add' | 'pin:remove' | 'state:restore'>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void
  state(): PinsetView
}

export interface StatelessTrackerComponents {
  readonly connector: IpfsConnector
  readonly consensus: TrackerConsensus
  /** This cluster peer's ID (allocations name it). */
  readonly peerId: string
  readonly peername?: string
  readonly clock?: Clock
  readonly logger?: Logger
}

export interface StatelessTrackerInit {
  readonly configuration?: StatelessConfiguration
  /** `cluster.state_sync_interval` in milliseconds (5m): re-pin what IPFS lost. */
  readonly stateSyncInterval?: number
  /** `cluster.pin_recover_interval` in milliseconds (12m): retry what failed. */
  readonly pinRecoverInterval?: number
  /**
   * How many operations a reconciliation pass may keep queued beyond `concurrent_pins` (1000)
   * before its walk waits for some to finish: a pass over a million pins IPFS lacks then holds a
   * bounded window of records, not one per pin.
   */
  readonly reconcileBacklog?: number
}

/** The tracker's events, by name. */
export interface TrackerEvents {
  /** An operation changed phase: queued, started, failed or finished. */
  'operation:change': {
    cid: string
    type: OperationType
    phase: OperationPhase
    status: TrackerStatus
  }
}

export interface StatusAllOptions extends AbortOptions {
  readonly filter?: StatusFilter
}

const unpinWorkers = 1
/**
 * How long statusAll waits for the IPFS pin lists before it answers lines one CID at a time:
 * short enough for a first line within 100 ms, long enough that a small pinset is never asked
 * about per CID.
 */
const listHeadStart = 20
/**
 * For how long (from the walk's start) a CID not yet in the lists is asked about on its own;
 * after that the walk waits for the lists, which answer a CID far faster than a question each.
 */
const askWindow = 100
/** Lines asked about on their own even when the window is over (a loaded machine's first lines). */
const askAtLeast = 64

/** The IPFS node's pins, read in the background by one statusAll walk. */
interface IpfsPinListing {
  /** Waits until the lists are read, or `milliseconds` passed; throws if listing failed. */
  settledWithin(milliseconds: number): Promise<void>
  /** Whether IPFS pins `cid` recursively or directly: from the lists, or asked while they are read. */
  holds(cid: CID, options?: AbortOptions): boolean | Promise<boolean>
  abort(): void
}
const ipfsIdMaxAge = 60_000
const defaultReconcileBacklog = 1000

/** Where one walk over the pinset is, and what finished ahead of it. */
interface WalkState {
  /** CIDs pinned since the walk read the IPFS pin lists, ahead of its position. */
  readonly pinnedDuring: Set<string>
  /** The last pin the walk handled (its consumer is done with it), null before the first. */
  last: Pin | null
}

/** Whether `pin` must be pinned on `peerId` (1.x's !IsRemotePin, with empty allocations as everywhere). */
export function isAllocatedTo(pin: Pin, peerId: string): boolean {
  if (pin.replicationFactorMin < 0 || pin.replicationFactorMax < 0) return true
  if (pin.allocations.length === 0) return true
  return pin.allocations.includes(peerId)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * IPFS Cluster's stateless pin tracker (pintracker/stateless): it follows the operations
 * consensus applies and pins or unpins on this peer's IPFS node, `concurrent_pins` at a time,
 * new pins first. It keeps nothing per pin but the operations queued, running or failed; every
 * other status is read from the pinset and the IPFS node's pins when asked.
 */
export class StatelessTracker {
  readonly peerId: string
  readonly peername: string
  readonly configuration: StatelessConfiguration
  readonly #connector: IpfsConnector
  readonly #consensus: TrackerConsensus
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #stateSyncInterval: number
  readonly #pinRecoverInterval: number
  readonly #events = new EventTarget()
  readonly #operations = new Map<string, Operation>()
  readonly #priorityPins: OperationQueue
  readonly #pins: OperationQueue
  readonly #unpins: OperationQueue
  readonly #running = new Set<Promise<void>>()
  /** Every statusAll walk running, with the CIDs pinned since it read the IPFS pin lists. */
  readonly #walks = new Set<WalkState>()
  /**
   * The walk of the reconciliation pass running, if any: a pin allocated here that IPFS lacks and
   * that this walk has not reached yet is waiting to be queued, so it reads `pin_queued` (as in
   * 1.x, whose pass queues every such pin at once).
   */
  #reconciling: { walk: WalkState; began: number } | null = null
  /** The last pin of `#reconciling` as a pinset key, computed once per position. */
  #reconcilingKey: { pin: Pin; key: string } | null = null
  readonly #reconcileWindow: number
  /** Wakes the reconciliation pass waiting for room in its window. */
  #roomWaiter: (() => void) | null = null
  #activePins = 0
  #activeUnpins = 0
  #started = false
  #stopped = false
  #listening: AbortController | null = null
  /** Aborts the reconciliation passes on stop, so a hung IPFS call cannot hold stop() up. */
  readonly #stopping = new AbortController()
  #recoverTimer: unknown = null
  #syncTimer: unknown = null
  #passes: Promise<void> = Promise.resolve()
  #ipfsId: { id: IpfsId; at: number } | null = null

  constructor(components: StatelessTrackerComponents, init: StatelessTrackerInit = {}) {
    this.peerId = components.peerId
    this.peername = components.peername ?? ''
    this.#connector = components.connector
    this.#consensus = components.consensus
    this.#clock = components.clock ?? systemClock
    this.#logger = components.logger ?? silentLogger
    this.configuration = init.configuration ?? defaultStatelessConfiguration
    this.#stateSyncInterval = init.stateSyncInterval ?? 5 * 60_000
    this.#pinRecoverInterval = init.pinRecoverInterval ?? 12 * 60_000
    this.#reconcileWindow =
      this.configuration.concurrentPins + (init.reconcileBacklog ?? defaultReconcileBacklog)
    this.#priorityPins = new OperationQueue(this.configuration.maxPinQueueSize)
    this.#pins = new OperationQueue(this.configuration.maxPinQueueSize)
    this.#unpins = new OperationQueue(this.configuration.maxPinQueueSize)
  }

  addEventListener<K extends keyof TrackerEvents>(
    type: K,
    listener: (event: CustomEvent<TrackerEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void {
    this.#events.addEventListener(type, listener as (event: Event) => void, options)
  }

  removeEventListener<K extends keyof TrackerEvents>(
    type: K,
    listener: (event: CustomEvent<TrackerEvents[K]>) => void,
  ): void {
    this.#events.removeEventListener(type, listener as (event: Event) => void)
  }

  /**
   * Follows consensus from now on, and reconciles right away (1.x's initial RecoverAllLocal):
   * what the state says this peer holds and IPFS lacks is pinned again.
   */
  async start(): Promise<void> {
    if (this.#started) return
    if (this.#stopped) throw new TrackerStoppedError()
    this.#started = true
    const listening = new AbortController()
    this.#listening = listening
    const options = { signal: listening.signal }
    this.#consensus.addEventListener(
      'pin:add',
      (event) => this.#follow(() => this.track(event.detail.pin)),
      options,
    )
    this.#consensus.addEventListener(
      'pin:remove',
      (event) => this.#follow(() => this.untrack(event.detail.cid)),
      options,
    )
    this.#consensus.addEventListener('state:restore', () => this.#restored(), options)
    this.#scheduleRecover(0)
    this.#scheduleSync(this.#stateSyncInterval)
  }

  /** Stops following, cancels every queued and running operation, and waits for them to end. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#listening?.abort()
    this.#stopping.abort(new TrackerStoppedError())
    if (this.#recoverTimer !== null) this.#clock.clearTimeout(this.#recoverTimer)
    if (this.#syncTimer !== null) this.#clock.clearTimeout(this.#syncTimer)
    for (const operation of this.#operations.values()) cancelOperation(operation)
    this.#priorityPins.clear()
    this.#pins.clear()
    this.#unpins.clear()
    await Promise.allSettled([...this.#running])
    await this.#passes
    this.#operations.clear()
  }

  /** Operations waiting in the pin queues (1.x's PinQueueSize). */
  pinQueueSize(): number {
    return this.#priorityPins.size + this.#pins.size
  }

  /** Operations queued, running or failed: what the tracker holds in memory. */
  operationCount(): number {
    return this.#operations.size
  }

  /**
   * Starts managing a pin (1.x's Track): allocated here, it is queued for pinning; allocated
   * elsewhere, it is unpinned; a meta pin is never pinned. Throws `FullQueueError` when the queue
   * is full (the CID then shows `pin_error` with that message).
   */
  track(pin: Pin): void {
    if (this.#stopped) throw new TrackerStoppedError()
    if (pin.type === 'meta-pin') return
    const key = operationKey(pin.cid)
    if (!isAllocatedTo(pin, this.peerId)) {
      this.#enqueue(key, 'remote', pin.timestamp)
      return
    }
    this.#enqueue(key, 'pin', pin.timestamp)
  }

  /** Stops managing a CID (1.x's Untrack): it is queued for unpinning. */
  untrack(cid: CID | string): void {
    if (this.#stopped) throw new TrackerStoppedError()
    this.#enqueue(operationKey(typeof cid === 'string' ? parseCid(cid) : cid), 'unpin', null)
  }

  /**
   * This peer's status of one CID (1.x's Status): the operation on it if there is one, else the
   * pinset against the IPFS node. A CID outside the pinset is `unpinned`; a failure to ask IPFS
   * is `cluster_error` with the reason.
   */
  async status(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    const key = cid.toString()
    const operation = this.#operations.get(key)
    const ipfs = await this.#ipfs(options)
    if (operation !== undefined) return this.#operationInfo(operation, ipfs)
    const now = this.#clock.now()
    const pin = this.#consensus.state().get(key)
    if (pin === undefined) {
      return this.#info(validatePin({ cid }), ipfs, 'unpinned', now, '', false)
    }
    if (pin.type === 'meta-pin') return this.#info(pin, ipfs, 'sharded', pin.timestamp)
    if (!isAllocatedTo(pin, this.peerId)) return this.#info(pin, ipfs, 'remote', pin.timestamp)
    try {
      const type = await this.#connector.pinLsCid(pin.cid, options)
      if (type === 'recursive' || type === 'direct') {
        return this.#info(pin, ipfs, 'pinned', pin.timestamp)
      }
      if (this.#notYetReached(pin, null)) return this.#pendingInfo(pin, ipfs)
      return this.#info(
        pin,
        ipfs,
        'unexpectedly_unpinned',
        pin.timestamp,
        unexpectedlyUnpinnedError,
      )
    } catch (error) {
      options?.signal?.throwIfAborted()
      return this.#info(pin, ipfs, 'cluster_error', pin.timestamp, messageOf(error))
    }
  }

  /**
   * This peer's status of every pin in the pinset, in the pinset's CID order (1.x's StatusAll),
   * streamed. With a filter of operation statuses only (`pin_error`, `queued`…), only the
   * operations are listed, IPFS is not asked, and CIDs already removed from the pinset appear.
   * Memory: the IPFS node's pin list (as a set of multihashes) while the stream runs.
   */
  async *statusAll(options: StatusAllOptions = {}): AsyncGenerator<PinInfo> {
    const filter = options.filter ?? null
    const ipfs = await this.#ipfs(options)
    // Pins a pass has yet to queue read pin_queued from the pinset and IPFS, not an operation.
    const wantsPending = this.#reconciling !== null && (filter === null || filter.has('pin_queued'))
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
        const info = this.#operationInfo(operation, ipfs)
        if (matchesFilter(info.status, filter)) yield info
      }
      return
    }
    const wantsIpfs =
      filter === null || filter.has('pinned') || filter.has('unexpectedly_unpinned') || wantsPending
    yield* this.#walked(filter, ipfs, wantsIpfs, options)
  }

  /** A walk over the pinset, registered so that pins finishing ahead of it count as pinned. */
  async *#walked(
    filter: StatusFilter,
    ipfs: IpfsId,
    wantsIpfs: boolean,
    options: StatusAllOptions,
    walk: WalkState = { pinnedDuring: new Set(), last: null },
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
    const drain = function* (this: StatelessTracker, before: string | null): Generator<PinInfo> {
      while (next < outside.length) {
        const { operation, order } = outside[next]!
        if (before !== null && order >= before) return
        next++
        if (this.#operations.get(operation.key) !== operation) continue
        const info = this.#operationInfo(operation, ipfs)
        if (matchesFilter(info.status, filter)) yield info
      }
    }
    for await (const info of this.#walked(filter, ipfs, true, options)) {
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
    const listing = wantsIpfs ? this.#listIpfsPins(options) : null
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
      const info = this.#operationInfo(operation, ipfs)
      return matchesFilter(info.status, filter) ? info : null
    }
    let status: TrackerStatus
    let error = ''
    if (pin.type === 'meta-pin') status = 'sharded'
    else if (!isAllocatedTo(pin, this.peerId)) status = 'remote'
    else if (listing === null) return null
    else {
      // Awaited only when it is a promise: an await per line is a walk's main cost.
      const answer = listing.holds(pin.cid, options)
      if (typeof answer === 'boolean' ? answer : await answer) status = 'pinned'
      else if (walk.pinnedDuring.has(pin.cid.toString())) {
        // Pinned after the list was read (an operation finished meanwhile): not lost.
        status = 'pinned'
      } else if (this.#notYetReached(pin, walk)) {
        return matchesFilter('pin_queued', filter) ? this.#pendingInfo(pin, ipfs) : null
      } else {
        status = 'unexpectedly_unpinned'
        error = unexpectedlyUnpinnedError
      }
    }
    return matchesFilter(status, filter)
      ? this.#info(pin, ipfs, status, pin.timestamp, error)
      : null
  }

  /**
   * Whether the reconciliation pass running (other than `own`) has yet to reach `pin`: one that
   * IPFS lacks is then as good as queued. Pins it passed were queued then, or pinned.
   */
  #notYetReached(pin: Pin, own: WalkState | null): boolean {
    const reconciling = this.#reconciling
    if (reconciling === null || reconciling.walk === own) return false
    const last = reconciling.walk.last
    if (last === null) return true
    if (this.#reconcilingKey?.pin !== last)
      this.#reconcilingKey = { pin: last, key: cidKey(last.cid) }
    return cidKey(pin.cid) > this.#reconcilingKey.key
  }

  /** The status of a pin the pass will queue: what its operation will show once queued. */
  #pendingInfo(pin: Pin, ipfs: IpfsId): PinInfo {
    const began = this.#reconciling?.began ?? this.#clock.now()
    const priority =
      pin.timestamp !== null && began < pin.timestamp + this.configuration.priorityPinMaxAge
    return this.#info(pin, ipfs, 'pin_queued', began, '', priority)
  }

  /**
   * Reads the IPFS node's recursive and direct pin lists (never `all`, which would also list
   * every indirectly pinned block) into a set of multihashes, in the background: the walk does not
   * wait for a large list before its first line. For its first `askWindow` ms, a CID not yet seen
   * in the lists is asked about on its own (`pinLsCid`); then the walk waits for the lists. Every
   * answer is the IPFS node's, as in 1.x.
   */
  #listIpfsPins(options: AbortOptions): IpfsPinListing {
    const held = new Set<string>()
    const controller = new AbortController()
    const signal =
      options.signal === undefined
        ? controller.signal
        : AbortSignal.any([options.signal, controller.signal])
    let complete = false
    let failure: Error | null = null
    const began = performance.now()
    let asked = 0
    const done = (async () => {
      try {
        for (const type of ['recursive', 'direct'] as const) {
          for await (const entry of this.#connector.pinLs({ type, signal })) {
            held.add(multihashKey(entry.cid))
          }
        }
        complete = true
      } catch (error) {
        if (!controller.signal.aborted) {
          failure = new Error(`could not get pinset from IPFS: ${messageOf(error)}`, {
            cause: error,
          })
        }
      }
    })()
    const check = (): void => {
      options.signal?.throwIfAborted()
      if (failure !== null) throw failure
    }
    return {
      settledWithin: async (milliseconds) => {
        // Real time, not the injected clock: this bounds a latency, it schedules no work.
        let timer: ReturnType<typeof setTimeout> | undefined
        await Promise.race([
          done,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, milliseconds)
          }),
        ])
        clearTimeout(timer)
        check()
      },
      // Synchronous once the lists are in.
      holds: (cid, askOptions) => {
        check()
        const key = multihashKey(cid)
        if (held.has(key)) return true
        if (complete) return false
        if (asked >= askAtLeast && performance.now() - began > askWindow) {
          // Asking per CID is slower than the lists: past the first lines, wait for them.
          return done.then(() => {
            check()
            return held.has(key)
          })
        }
        asked++
        return this.#connector.pinLsCid(cid, askOptions).then(
          (type) => type === 'recursive' || type === 'direct',
          (error: unknown) => {
            askOptions?.signal?.throwIfAborted()
            throw new Error(`could not get pinset from IPFS: ${messageOf(error)}`, {
              cause: error,
            })
          },
        )
      },
      abort: () => controller.abort(),
    }
  }

  /**
   * Retries a CID in `pin_error`, `unexpectedly_unpinned` or `unpin_error` (1.x's Recover) and
   * returns its status after queueing; any other status is returned unchanged.
   */
  async recover(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    const info = await this.status(cid, options)
    return (await this.#recoverWith(info, options)) ?? info
  }

  /** Recovers every CID that needs it (1.x's RecoverAll), streaming the status of each one retried. */
  async *recoverAll(options: AbortOptions = {}): AsyncGenerator<PinInfo> {
    for await (const info of this.statusAll({ signal: options.signal })) {
      if (this.#stopped) throw new TrackerStoppedError()
      const recovered = await this.#recoverWith(info, options)
      if (recovered !== null) yield recovered
    }
  }

  async #recoverWith(info: PinInfo, options?: AbortOptions): Promise<PinInfo | null> {
    if (this.#stopped) return null
    const key = operationKey(info.cid)
    switch (info.status) {
      case 'pin_error':
      case 'unexpectedly_unpinned': {
        const pin = this.#consensus.state().get(key)
        // Removed while recovering: nothing to pin.
        if (pin === undefined) return this.status(info.cid, options)
        // Debug, not info as in 1.x: a restart's recover pass would log one line per pin.
        this.#logger.debug('restarting pin operation', { cid: key })
        this.#tryEnqueue(key, isAllocatedTo(pin, this.peerId) ? 'pin' : 'remote', pin.timestamp)
        return this.status(info.cid, options)
      }
      case 'unpin_error':
        this.#logger.debug('restarting unpin operation', { cid: key })
        this.#tryEnqueue(key, 'unpin', null)
        return this.status(info.cid, options)
      default:
        return null
    }
  }

  #tryEnqueue(key: string, type: OperationType, submitted: number | null): void {
    try {
      this.#enqueue(key, type, submitted)
    } catch (error) {
      // The operation now shows the error (pin_error / unpin_error): nothing is lost.
      this.#logger.error('could not queue the operation', {
        cid: key,
        error: messageOf(error),
      })
    }
  }

  #follow(apply: () => void): void {
    if (this.#stopped) return
    try {
      apply()
    } catch (error) {
      this.#logger.error('could not queue an operation', { error: messageOf(error) })
    }
  }

  /** After a snapshot restore: operations for pins that left the state are turned around, then everything is reconciled. */
  #restored(): void {
    if (this.#stopped) return
    const state = this.#consensus.state()
    for (const operation of [...this.#operations.values()]) {
      if (operation.type !== 'pin') continue
      const pin = state.get(operation.key)
      if (pin === undefined) this.#follow(() => this.untrack(operation.key))
      else if (!isAllocatedTo(pin, this.peerId)) this.#follow(() => this.track(pin))
    }
    this.#scheduleRecover(0)
  }

  #scheduleRecover(delay: number): void {
    if (this.#stopped) return
    if (this.#recoverTimer !== null) this.#clock.clearTimeout(this.#recoverTimer)
    this.#recoverTimer = this.#clock.setTimeout(() => {
      this.#recoverTimer = null
      this.#pass('recover', async () => {
        await this.#reconcile(null, this.#stopping.signal)
        await this.#unpinReallocated(this.#stopping.signal)
      }).finally(() => this.#scheduleRecover(this.#pinRecoverInterval))
    }, delay)
  }

  /**
   * Unpins what the IPFS node still pins although the pinset now allocates it elsewhere: a pin
   * re-allocated while this peer was down is applied before the tracker follows consensus, so
   * no `pin:add` reaches it (issue 16: a peer that comes back must not pin beyond max).
   */
  async #unpinReallocated(signal: AbortSignal): Promise<void> {
    const state = this.#consensus.state()
    for await (const entry of this.#connector.pinLs({ type: 'recursive', signal })) {
      const pin = state.get(entry.cid.toString())
      if (pin === undefined || pin.type === 'meta-pin' || isAllocatedTo(pin, this.peerId)) continue
      if (this.#operations.has(operationKey(pin.cid))) continue
      this.#tryEnqueue(operationKey(pin.cid), 'remote', pin.timestamp)
    }
  }

  #scheduleSync(delay: number): void {
    if (this.#stopped) return
    this.#syncTimer = this.#clock.setTimeout(() => {
      this.#syncTimer = null
      this.#pass('state sync', async () => {
        // Re-pin what the IPFS node lost; failed pins wait for the recover pass (their backoff).
        await this.#reconcile(new Set(['unexpectedly_unpinned']), this.#stopping.signal)
      }).finally(() => this.#scheduleSync(this.#stateSyncInterval))
    }, delay)
  }

  /**
   * A reconciliation pass: walks the pinset and recovers what `filter` lets through, keeping at
   * most `concurrent_pins` + `reconcileBacklog` operations queued or running; past that the walk
   * waits (its cursor holds its place) until some finish.
   */
  async #reconcile(filter: StatusFilter, signal: AbortSignal): Promise<void> {
    const ipfs = await this.#ipfs({ signal })
    const walk: WalkState = { pinnedDuring: new Set(), last: null }
    const reconciling = { walk, began: this.#clock.now() }
    this.#reconciling = reconciling
    try {
      for await (const info of this.#walked(filter, ipfs, true, { signal }, walk)) {
        if (this.#stopped) return
        await this.#recoverWith(info, { signal })
        await this.#roomInWindow(signal)
      }
    } finally {
      if (this.#reconciling === reconciling) this.#reconciling = null
    }
  }

  /** Operations queued or running, canceled ones still in a queue included. */
  #inWindow(): number {
    return (
      this.#priorityPins.size +
      this.#pins.size +
      this.#unpins.size +
      this.#activePins +
      this.#activeUnpins
    )
  }

  async #roomInWindow(signal: AbortSignal): Promise<void> {
    while (!this.#stopped && this.#inWindow() >= this.#reconcileWindow) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake)
          if (this.#roomWaiter === wake) this.#roomWaiter = null
          resolve()
        }
        this.#roomWaiter = wake
        signal.addEventListener('abort', wake, { once: true })
      })
      signal.throwIfAborted()
    }
  }

  /** Runs reconciliation passes one at a time (a sync never overlaps a recover). */
  #pass(name: string, run: () => Promise<void>): Promise<void> {
    const next = this.#passes.then(async () => {
      if (this.#stopped) return
      try {
        await run()
      } catch (error) {
        if (!this.#stopped) this.#logger.warn(`${name} pass failed`, { error: messageOf(error) })
      }
    })
    this.#passes = next
    return next
  }

  /** 1.x's TrackNewOperation: null when the same kind of operation is already queued or running. */
  #newOperation(key: string, type: OperationType): Operation | null {
    const existing = this.#operations.get(key)
    if (existing !== undefined) {
      if (existing.type === type && existing.phase !== 'error' && existing.phase !== 'done') {
        // Already queued or running; a queued pin reads the latest options when it starts.
        return null
      }
      cancelOperation(existing)
    }
    const operation: Operation = {
      type,
      key,
      phase: 'queued',
      attemptCount: existing !== undefined && existing.type === type ? existing.attemptCount : 0,
      priority: false,
      error: '',
      timestamp: this.#clock.now(),
      canceled: false,
      controller: null,
    }
    this.#operations.set(key, operation)
    return operation
  }

  /** Queues an operation; `submitted` is the pin's timestamp (new pins go first). */
  #enqueue(key: string, type: OperationType, submitted: number | null): void {
    const operation = this.#newOperation(key, type)
    if (operation === null) return
    let queue: OperationQueue
    if (type === 'pin') {
      const now = this.#clock.now()
      operation.priority =
        submitted !== null &&
        now < submitted + this.configuration.priorityPinMaxAge &&
        operation.attemptCount <= this.configuration.priorityPinMaxRetries
      queue = operation.priority ? this.#priorityPins : this.#pins
    } else {
      queue = this.#unpins
    }
    if (!queue.push(operation)) {
      const error = new FullQueueError()
      operation.phase = 'error'
      operation.error = error.message
      operation.timestamp = this.#clock.now()
      operation.canceled = true
      this.#changed(operation)
      this.#logger.error(error.message, { cid: operation.key })
      throw error
    }
    this.#changed(operation)
    this.#pump()
  }

  #pump(): void {
    while (this.#activePins < this.configuration.concurrentPins) {
      const operation = this.#priorityPins.shift() ?? this.#pins.shift()
      if (operation === undefined) break
      this.#activePins++
      this.#launch(operation, () => this.#activePins--)
    }
    while (this.#activeUnpins < unpinWorkers) {
      const operation = this.#unpins.shift()
      if (operation === undefined) break
      this.#activeUnpins++
      this.#launch(operation, () => this.#activeUnpins--)
    }
  }

  #launch(operation: Operation, release: () => void): void {
    const running: Promise<void> = this.#apply(operation).finally(() => {
      release()
      this.#running.delete(running)
      if (!this.#stopped) this.#pump()
      if (this.#roomWaiter !== null && this.#inWindow() < this.#reconcileWindow) this.#roomWaiter()
    })
    this.#running.add(running)
  }

  /** 1.x's applyPinF: one attempt; done operations are forgotten, failed ones keep their error. */
  async #apply(operation: Operation): Promise<void> {
    const controller = new AbortController()
    operation.controller = controller
    const { signal } = controller
    let pin: Pin | undefined
    if (operation.type === 'pin') {
      pin = this.#consensus.state().get(operation.key)
      if (pin === undefined) {
        // Left the pinset without an unpin reaching the tracker (a restore): nothing to pin.
        this.#finish(operation)
        return
      }
    }
    operation.phase = 'in_progress'
    operation.timestamp = this.#clock.now()
    operation.attemptCount++
    this.#changed(operation)
    try {
      if (pin !== undefined) {
        await this.#connector.pin(pin.cid, {
          mode: pin.mode,
          maxDepth: pin.maxDepth,
          origins: pin.origins,
          signal,
        })
      } else {
        await this.#connector.unpin(parseCid(operation.key), { signal })
      }
    } catch (error) {
      if (signal.aborted) return
      operation.phase = 'error'
      operation.error = messageOf(error)
      operation.timestamp = this.#clock.now()
      operation.controller = null
      this.#logger.warn(`${operation.type === 'pin' ? 'pin' : 'unpin'} failed`, {
        cid: operation.key,
        attempt: operation.attemptCount,
        error: operation.error,
      })
      this.#changed(operation)
      return
    }
    if (signal.aborted) return
    this.#finish(operation)
  }

  #finish(operation: Operation): void {
    if (operation.type === 'pin' && this.#walks.size > 0) {
      // Only pins ahead of a walk: one it passed is not read again, and a long pass must not
      // collect every CID it pinned.
      const key = cidKey(parseCid(operation.key))
      for (const walk of this.#walks) {
        if (walk.last === null || key > cidKey(walk.last.cid)) walk.pinnedDuring.add(operation.key)
      }
    }
    operation.phase = 'done'
    operation.timestamp = this.#clock.now()
    operation.controller = null
    if (this.#operations.get(operation.key) === operation) this.#operations.delete(operation.key)
    this.#changed(operation)
  }

  #changed(operation: Operation): void {
    this.#events.dispatchEvent(
      new CustomEvent('operation:change', {
        detail: {
          cid: operation.key,
          type: operation.type,
          phase: operation.phase,
          status: operationStatus(operation),
        },
      }),
    )
  }

  async #ipfs(options?: AbortOptions): Promise<IpfsId> {
    const now = this.#clock.now()
    if (this.#ipfsId !== null && now - this.#ipfsId.at < ipfsIdMaxAge) return this.#ipfsId.id
    try {
      const id = await this.#connector.id(options)
      this.#ipfsId = { id, at: now }
      return id
    } catch (error) {
      options?.signal?.throwIfAborted()
      // As 1.x: the status is still given, without the IPFS node's identity.
      this.#logger.debug('could not read the IPFS node identity', { error: messageOf(error) })
      return this.#ipfsId?.id ?? { id: '', addresses: [] }
    }
  }

  #operationInfo(operation: Operation, ipfs: IpfsId): PinInfo {
    // The pin's fields come from the pinset; an unpinned CID has only its CID.
    const pin = this.#consensus.state().get(operation.key) ?? validatePin({ cid: operation.key })
    return this.#info(
      pin,
      ipfs,
      operationStatus(operation),
      operation.timestamp,
      operation.error,
      operation.priority,
      operation.attemptCount,
    )
  }

  #info(
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
      peer: this.peerId,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peername: this.peername,
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

/**
 * The CID's string as the operations' key, copied flat: multiformats builds base32 strings by
 * concatenation, and V8 keeps such a string as a rope of about 1.5 KB until it is flattened.
 * `cidText`, not `cid.toString()`, whose cache map per CID was most of this call's cost.
 */
function operationKey(cid: CID): string {
  return Buffer.from(cidText(cid), 'latin1').toString('latin1')
}

/** Compares pins by their multihash, so CIDv0 and v1 of one DAG match across IPFS implementations. */
function multihashKey(cid: CID): string {
  const bytes = cid.multihash.bytes
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

/** Creates the tracker (js-libp2p's factory shape); `start()` it once consensus is created. */
export function createStatelessTracker(
  components: StatelessTrackerComponents,
  init?: StatelessTrackerInit,
): StatelessTracker {
  return new StatelessTracker(components, init)
}
