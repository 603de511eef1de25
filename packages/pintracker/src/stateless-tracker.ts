import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import { type Clock, type Logger, silentLogger, systemClock } from '@pinraft/raft-core'
import { type Pin, parseCid } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import { isAllocatedTo } from './allocation.ts'
import { operationKey } from './cid-keys.ts'
import { defaultStatelessConfiguration, type StatelessConfiguration } from './configuration.ts'
import { messageOf } from './error-message.ts'
import { TrackerStoppedError } from './errors.ts'
import { IpfsIdentity } from './ipfs-identity.ts'
import type { OperationPhase, OperationType } from './operation.ts'
import { OperationRunner } from './operation-runner.ts'
import type { PinInfo } from './pin-info.ts'
import { Reconciler } from './reconciler.ts'
import { PinsetWalks } from './status/pinset-walks.ts'
import { type StatusAllOptions, StatusReader } from './status/status-reader.ts'
import type { TrackerConsensus } from './tracker-consensus.ts'
import { TrackerLifetime } from './tracker-lifetime.ts'
import type { TrackerStatus } from './tracker-status.ts'

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

const defaultReconcileBacklog = 1000

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
  readonly #consensus: TrackerConsensus
  readonly #logger: Logger
  readonly #events = new EventTarget()
  readonly #lifetime = new TrackerLifetime()
  readonly #runner: OperationRunner
  readonly #statuses: StatusReader
  readonly #reconciler: Reconciler
  #started = false
  #listening: AbortController | null = null

  constructor(components: StatelessTrackerComponents, init: StatelessTrackerInit = {}) {
    this.peerId = components.peerId
    this.peername = components.peername ?? ''
    this.#consensus = components.consensus
    this.#logger = components.logger ?? silentLogger
    this.configuration = init.configuration ?? defaultStatelessConfiguration
    const { connector, consensus, peerId } = components
    const peername = this.peername
    const clock = components.clock ?? systemClock
    const logger = this.#logger
    const lifetime = this.#lifetime
    const configuration = this.configuration
    const identity = new IpfsIdentity(connector, clock, logger)
    const walks = new PinsetWalks()
    this.#runner = new OperationRunner({
      connector,
      consensus,
      configuration,
      reconcileBacklog: init.reconcileBacklog ?? defaultReconcileBacklog,
      clock,
      logger,
      lifetime,
      events: this.#events,
      walks,
    })
    this.#statuses = new StatusReader({
      connector,
      consensus,
      peerId,
      peername,
      configuration,
      clock,
      identity,
      operations: this.#runner.operations,
      walks,
    })
    this.#reconciler = new Reconciler({
      connector,
      consensus,
      peerId,
      clock,
      logger,
      lifetime,
      identity,
      runner: this.#runner,
      statuses: this.#statuses,
      walks,
      stateSyncInterval: init.stateSyncInterval ?? 5 * 60_000,
      pinRecoverInterval: init.pinRecoverInterval ?? 12 * 60_000,
    })
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
    if (this.#lifetime.stopped) throw new TrackerStoppedError()
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
    this.#reconciler.start()
  }

  /** Stops following, cancels every queued and running operation, and waits for them to end. */
  async stop(): Promise<void> {
    if (this.#lifetime.stopped) return
    this.#listening?.abort()
    this.#lifetime.stop()
    this.#reconciler.stop()
    await this.#runner.stop()
    await this.#reconciler.settled()
    this.#runner.clear()
  }

  /** Operations waiting in the pin queues (1.x's PinQueueSize). */
  pinQueueSize(): number {
    return this.#runner.pinQueueSize()
  }

  /** Operations queued, running or failed: what the tracker holds in memory. */
  operationCount(): number {
    return this.#runner.operations.size
  }

  /**
   * Starts managing a pin (1.x's Track): allocated here, it is queued for pinning; allocated
   * elsewhere, it is unpinned; a meta pin is never pinned. Throws `FullQueueError` when the queue
   * is full (the CID then shows `pin_error` with that message).
   */
  track(pin: Pin): void {
    if (this.#lifetime.stopped) throw new TrackerStoppedError()
    if (pin.type === 'meta-pin') return
    const key = operationKey(pin.cid)
    if (!isAllocatedTo(pin, this.peerId)) {
      this.#runner.enqueue(key, 'remote', pin.timestamp)
      return
    }
    this.#runner.enqueue(key, 'pin', pin.timestamp)
  }

  /** Stops managing a CID (1.x's Untrack): it is queued for unpinning. */
  untrack(cid: CID | string): void {
    if (this.#lifetime.stopped) throw new TrackerStoppedError()
    this.#runner.enqueue(operationKey(typeof cid === 'string' ? parseCid(cid) : cid), 'unpin', null)
  }

  /**
   * This peer's status of one CID (1.x's Status): the operation on it if there is one, else the
   * pinset against the IPFS node. A CID outside the pinset is `unpinned`; a failure to ask IPFS
   * is `cluster_error` with the reason.
   */
  status(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    return this.#statuses.status(cid, options)
  }

  /**
   * This peer's status of every pin in the pinset, in the pinset's CID order (1.x's StatusAll),
   * streamed. With a filter of operation statuses only (`pin_error`, `queued`…), only the
   * operations are listed, IPFS is not asked, and CIDs already removed from the pinset appear.
   * Memory: the IPFS node's pin list (as a set of multihashes) while the stream runs.
   */
  statusAll(options: StatusAllOptions = {}): AsyncGenerator<PinInfo> {
    // The reader's generator itself: a `yield*` here would add a hop per line.
    return this.#statuses.statusAll(options)
  }

  /**
   * Retries a CID in `pin_error`, `unexpectedly_unpinned` or `unpin_error` (1.x's Recover) and
   * returns its status after queueing; any other status is returned unchanged.
   */
  async recover(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    const info = await this.status(cid, options)
    return (await this.#reconciler.recoverWith(info, options)) ?? info
  }

  /** Recovers every CID that needs it (1.x's RecoverAll), streaming the status of each one retried. */
  async *recoverAll(options: AbortOptions = {}): AsyncGenerator<PinInfo> {
    for await (const info of this.statusAll({ signal: options.signal })) {
      if (this.#lifetime.stopped) throw new TrackerStoppedError()
      const recovered = await this.#reconciler.recoverWith(info, options)
      if (recovered !== null) yield recovered
    }
  }

  #follow(apply: () => void): void {
    if (this.#lifetime.stopped) return
    try {
      apply()
    } catch (error) {
      this.#logger.error('could not queue an operation', { error: messageOf(error) })
    }
  }

  /** After a snapshot restore: operations for pins that left the state are turned around, then everything is reconciled. */
  #restored(): void {
    if (this.#lifetime.stopped) return
    const state = this.#consensus.state()
    for (const operation of [...this.#runner.operations.values()]) {
      if (operation.type !== 'pin') continue
      const pin = state.get(operation.key)
      if (pin === undefined) this.#follow(() => this.untrack(operation.key))
      else if (!isAllocatedTo(pin, this.peerId)) this.#follow(() => this.track(pin))
    }
    this.#reconciler.scheduleRecover(0)
  }
}

/** Creates the tracker (js-libp2p's factory shape); `start()` it once consensus is created. */
export function createStatelessTracker(
  components: StatelessTrackerComponents,
  init?: StatelessTrackerInit,
): StatelessTracker {
  return new StatelessTracker(components, init)
}
