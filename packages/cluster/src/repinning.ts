import {
  type Alert,
  type BalancedAllocator,
  PING_METRIC,
  type ReallocateResult,
  reallocatePeer,
} from '@pinraft/allocation'
import type { Clock, Logger } from '@pinraft/raft-core'
import type { ClusterConsensus, ClusterMonitor } from './components.ts'
import { messageOf } from './error-message.ts'
import type { ClusterLifetime } from './lifetime.ts'

export interface RepinningComponents {
  readonly consensus: ClusterConsensus
  readonly monitor: ClusterMonitor | undefined
  readonly allocator: BalancedAllocator | undefined
  readonly logger: Logger
  readonly clock: Clock
  readonly lifetime: ClusterLifetime
}

export interface RepinningInit {
  /** `cluster.disable_repinning`: no re-allocation on alerts or peer removal. */
  readonly disableRepinning: boolean
  /** How many re-allocations are committed at once when a peer is lost or removed. */
  readonly repinConcurrency: number
  /** How long an alert waits for a leader to be known before it is dropped (ms). */
  readonly leaderWaitTimeout: number
}

/**
 * Moves the pins of a peer that is gone (1.x's repinFromPeer): on the monitor's ping alerts,
 * on the leader only, and for `peerRemove`, before the peer leaves consensus.
 */
export class Repinning {
  readonly #peerId: string
  readonly #consensus: ClusterConsensus
  readonly #monitor: ClusterMonitor | undefined
  readonly #allocator: BalancedAllocator | undefined
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #lifetime: ClusterLifetime
  readonly #disableRepinning: boolean
  readonly #repinConcurrency: number
  readonly #leaderWaitTimeout: number
  /** Peers whose pins are being re-allocated: an alert repeated meanwhile is not run twice. */
  readonly #repinning = new Map<string, Promise<ReallocateResult | null>>()
  readonly #onAlert = (event: Event) => {
    void this.#handleAlert((event as CustomEvent<Alert>).detail)
  }

  constructor(components: RepinningComponents, init: RepinningInit) {
    this.#peerId = components.consensus.peerId
    this.#consensus = components.consensus
    this.#monitor = components.monitor
    this.#allocator = components.allocator
    this.#logger = components.logger
    this.#clock = components.clock
    this.#lifetime = components.lifetime
    this.#disableRepinning = init.disableRepinning
    this.#repinConcurrency = init.repinConcurrency
    this.#leaderWaitTimeout = init.leaderWaitTimeout
  }

  /** Listens to the monitor's alerts. */
  start(): void {
    this.#monitor?.addEventListener('alert:raised', this.#onAlert)
  }

  /** Stops listening; the re-allocations already running finish (`settled`). */
  stop(): void {
    this.#monitor?.removeEventListener('alert:raised', this.#onAlert)
  }

  /** Resolves once every re-allocation running has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#repinning.values()])
  }

  /**
   * 1.x's PeerRemove: re-allocates the pins allocated to `peer` (it is blacklisted, so they
   * move elsewhere; skipped when `disable_repinning`), then removes it from consensus.
   */
  async peerRemove(peer: string, signal: AbortSignal): Promise<void> {
    if (this.#consensus.rmPeer === undefined)
      throw new TypeError('this cluster was built without consensus.rmPeer: it cannot remove peers')
    if (this.#disableRepinning) {
      this.#logger.warn(
        'repinning is disabled (cluster.disable_repinning): pins stay allocated to the removed peer',
        { peer },
      )
    } else {
      await this.#reallocate(peer, false, signal)
    }
    await this.#consensus.rmPeer(peer, { signal })
    this.#logger.info('peer removed', { peer })
  }

  async #reallocate(
    peer: string,
    onlyBelowMin: boolean,
    signal: AbortSignal,
  ): Promise<ReallocateResult | null> {
    if (this.#monitor === undefined || this.#allocator === undefined) return null
    const started = this.#clock.now()
    this.#logger.info('re-allocating the pins allocated to a peer', { peer, onlyBelowMin })
    const result = await reallocatePeer(
      {
        consensus: this.#consensus,
        metrics: this.#monitor,
        allocator: this.#allocator,
        logger: this.#logger,
        now: () => this.#clock.now(),
      },
      peer,
      { onlyBelowMin, concurrency: this.#repinConcurrency, signal },
    )
    this.#logger.info('re-allocated the pins of a peer', {
      peer,
      moved: result.moved,
      failed: result.failed,
      milliseconds: this.#clock.now() - started,
    })
    return result
  }

  /**
   * 1.x's alertsHandler: a ping alert means the peer is gone, so the pins allocated to it
   * whose `replication_factor_min` no longer holds are re-allocated. Only the leader does it, so
   * the work is done once; a peer that cannot tell who leads waits for a leader (bounded).
   */
  async #handleAlert(alert: Alert): Promise<void> {
    const peer = alert.metric.peer
    this.#logger.warn('metric alert', { metric: alert.metric.name, peer })
    if (alert.metric.name !== PING_METRIC || this.#lifetime.stopped) return
    if (this.#disableRepinning) {
      this.#logger.debug('repinning is disabled: not re-allocating on alerts', { peer })
      return
    }
    if (this.#repinning.has(peer)) return
    const run = (async () => {
      if (!(await this.#isLeader(peer))) {
        this.#logger.debug('not the leader: the leader re-allocates the pins of a lost peer', {
          peer,
        })
        return null
      }
      return this.#reallocate(peer, true, this.#lifetime.signal)
    })()
    this.#repinning.set(peer, run)
    try {
      await run
    } catch (error) {
      if (!this.#lifetime.stopped)
        this.#logger.error('re-allocation after an alert failed', { peer, error: messageOf(error) })
    } finally {
      this.#repinning.delete(peer)
    }
  }

  /**
   * Whether this peer leads. While no leader is known, or the leader known is the lost peer
   * itself (the others have not elected a new one yet), waits for one (bounded): otherwise a
   * dead leader's pins would be left to nobody.
   */
  async #isLeader(lost: string): Promise<boolean> {
    const status = this.#consensus.status
    if (status === undefined) return false
    const deadline = Date.now() + this.#leaderWaitTimeout
    for (;;) {
      const leader = status.call(this.#consensus).leader
      if (leader !== null && leader !== lost) return leader === this.#peerId
      if (this.#lifetime.stopped || Date.now() >= deadline) return false
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}
