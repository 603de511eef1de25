import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { Clock, Logger } from '@pinraft/raft-core'
import { isAllocatedTo } from './allocation.ts'
import { operationKey } from './cid-keys.ts'
import { messageOf } from './error-message.ts'
import type { IpfsIdentity } from './ipfs-identity.ts'
import type { OperationRunner } from './operation-runner.ts'
import type { PinInfo } from './pin-info.ts'
import { newWalk, type PinsetWalks } from './status/pinset-walks.ts'
import type { StatusReader } from './status/status-reader.ts'
import type { TrackerConsensus } from './tracker-consensus.ts'
import type { TrackerLifetime } from './tracker-lifetime.ts'
import type { StatusFilter } from './tracker-status.ts'

export interface ReconcilerComponents {
  readonly connector: IpfsConnector
  readonly consensus: TrackerConsensus
  readonly peerId: string
  readonly clock: Clock
  readonly logger: Logger
  readonly lifetime: TrackerLifetime
  readonly identity: IpfsIdentity
  readonly runner: OperationRunner
  readonly statuses: StatusReader
  readonly walks: PinsetWalks
  /** `cluster.state_sync_interval` in milliseconds. */
  readonly stateSyncInterval: number
  /** `cluster.pin_recover_interval` in milliseconds. */
  readonly pinRecoverInterval: number
}

/**
 * Retries what needs it (1.x's Recover), and runs the periodic passes over the pinset: recover
 * every `pin_recover_interval`, state sync every `state_sync_interval`, one at a time.
 */
export class Reconciler {
  readonly #connector: IpfsConnector
  readonly #consensus: TrackerConsensus
  readonly #peerId: string
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #lifetime: TrackerLifetime
  readonly #identity: IpfsIdentity
  readonly #runner: OperationRunner
  readonly #statuses: StatusReader
  readonly #walks: PinsetWalks
  readonly #stateSyncInterval: number
  readonly #pinRecoverInterval: number
  #recoverTimer: unknown = null
  #syncTimer: unknown = null
  #passes: Promise<void> = Promise.resolve()

  constructor(components: ReconcilerComponents) {
    this.#connector = components.connector
    this.#consensus = components.consensus
    this.#peerId = components.peerId
    this.#clock = components.clock
    this.#logger = components.logger
    this.#lifetime = components.lifetime
    this.#identity = components.identity
    this.#runner = components.runner
    this.#statuses = components.statuses
    this.#walks = components.walks
    this.#stateSyncInterval = components.stateSyncInterval
    this.#pinRecoverInterval = components.pinRecoverInterval
  }

  /** Reconciles right away, then on both intervals. */
  start(): void {
    this.scheduleRecover(0)
    this.#scheduleSync(this.#stateSyncInterval)
  }

  /** Clears the timers; the lifetime's signal aborts a pass running. */
  stop(): void {
    if (this.#recoverTimer !== null) this.#clock.clearTimeout(this.#recoverTimer)
    if (this.#syncTimer !== null) this.#clock.clearTimeout(this.#syncTimer)
  }

  /** Resolves once the passes queued so far have ended. */
  settled(): Promise<void> {
    return this.#passes
  }

  /** Re-queues `info`'s CID if its status needs it; returns its status after, or null. */
  async recoverWith(info: PinInfo, options?: AbortOptions): Promise<PinInfo | null> {
    if (this.#lifetime.stopped) return null
    const key = operationKey(info.cid)
    switch (info.status) {
      case 'pin_error':
      case 'unexpectedly_unpinned': {
        const pin = this.#consensus.state().get(key)
        // Removed while recovering: nothing to pin.
        if (pin === undefined) return this.#statuses.status(info.cid, options)
        // Debug, not info as in 1.x: a restart's recover pass would log one line per pin.
        this.#logger.debug('restarting pin operation', { cid: key })
        this.#runner.tryEnqueue(
          key,
          isAllocatedTo(pin, this.#peerId) ? 'pin' : 'remote',
          pin.timestamp,
        )
        return this.#statuses.status(info.cid, options)
      }
      case 'unpin_error':
        this.#logger.debug('restarting unpin operation', { cid: key })
        this.#runner.tryEnqueue(key, 'unpin', null)
        return this.#statuses.status(info.cid, options)
      default:
        return null
    }
  }

  scheduleRecover(delay: number): void {
    if (this.#lifetime.stopped) return
    if (this.#recoverTimer !== null) this.#clock.clearTimeout(this.#recoverTimer)
    this.#recoverTimer = this.#clock.setTimeout(() => {
      this.#recoverTimer = null
      this.#pass('recover', async () => {
        await this.#reconcile(null, this.#lifetime.signal)
        await this.#unpinReallocated(this.#lifetime.signal)
      }).finally(() => this.scheduleRecover(this.#pinRecoverInterval))
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
      if (pin === undefined || pin.type === 'meta-pin' || isAllocatedTo(pin, this.#peerId)) continue
      if (this.#runner.operations.has(operationKey(pin.cid))) continue
      this.#runner.tryEnqueue(operationKey(pin.cid), 'remote', pin.timestamp)
    }
  }

  #scheduleSync(delay: number): void {
    if (this.#lifetime.stopped) return
    this.#syncTimer = this.#clock.setTimeout(() => {
      this.#syncTimer = null
      this.#pass('state sync', async () => {
        // Re-pin what the IPFS node lost; failed pins wait for the recover pass (their backoff).
        await this.#reconcile(new Set(['unexpectedly_unpinned']), this.#lifetime.signal)
      }).finally(() => this.#scheduleSync(this.#stateSyncInterval))
    }, delay)
  }

  /**
   * A reconciliation pass: walks the pinset and recovers what `filter` lets through, keeping at
   * most `concurrent_pins` + `reconcileBacklog` operations queued or running; past that the walk
   * waits (its cursor holds its place) until some finish.
   */
  async #reconcile(filter: StatusFilter, signal: AbortSignal): Promise<void> {
    const ipfs = await this.#identity.read({ signal })
    const walk = newWalk()
    const reconciling = this.#walks.beginPass(walk, this.#clock.now())
    try {
      for await (const info of this.#statuses.walked(filter, ipfs, true, { signal }, walk)) {
        if (this.#lifetime.stopped) return
        await this.recoverWith(info, { signal })
        await this.#runner.roomInWindow(signal)
      }
    } finally {
      this.#walks.endPass(reconciling)
    }
  }

  /** Runs reconciliation passes one at a time (a sync never overlaps a recover). */
  #pass(name: string, run: () => Promise<void>): Promise<void> {
    const next = this.#passes.then(async () => {
      if (this.#lifetime.stopped) return
      try {
        await run()
      } catch (error) {
        if (!this.#lifetime.stopped) {
          this.#logger.warn(`${name} pass failed`, { error: messageOf(error) })
        }
      }
    })
    this.#passes = next
    return next
  }
}
