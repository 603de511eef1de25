import { allocate, type BalancedAllocator } from '@pinraft/allocation'
import type { Clock, Logger } from '@pinraft/raft-core'
import { type Pin, type PinInput, validatePin } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import type { ClusterConsensus, ClusterMonitor } from './components.ts'
import { PinNotFoundError, PinOptionsError } from './errors.ts'
import { checkPinAgainst, checkReplicationFactors } from './pin-setup.ts'

export interface PinningComponents {
  readonly consensus: ClusterConsensus
  readonly monitor: ClusterMonitor | undefined
  readonly allocator: BalancedAllocator | undefined
  readonly logger: Logger
  readonly clock: Clock
}

export interface PinningInit {
  /** The cluster's `replication_factor_min` / `max`: what a pin's 0 means. */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
}

/**
 * The cluster's side of a pin (1.x's Cluster.Pin and PinUpdate): the replication factors and
 * checks, the allocations from the monitor's metrics, then the commit. The caller's signal is
 * the Cluster's to make: this is the hot path, so it adds no closure or async hop of its own.
 */
export class Pinning {
  readonly #consensus: ClusterConsensus
  readonly #monitor: ClusterMonitor | undefined
  readonly #allocator: BalancedAllocator | undefined
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #replicationFactorMin: number
  readonly #replicationFactorMax: number

  constructor(components: PinningComponents, init: PinningInit) {
    this.#consensus = components.consensus
    this.#monitor = components.monitor
    this.#allocator = components.allocator
    this.#logger = components.logger
    this.#clock = components.clock
    this.#replicationFactorMin = init.replicationFactorMin
    this.#replicationFactorMax = init.replicationFactorMax
    checkReplicationFactors(this.#replicationFactorMin, this.#replicationFactorMax)
  }

  /** 1.x's Cluster.pin: setupPin, then allocate unless allocations were given. */
  async pin(input: PinInput, signal: AbortSignal): Promise<Pin> {
    const min = input.replicationFactorMin ?? 0
    const max = input.replicationFactorMax ?? 0
    const replicationFactorMin = min === 0 ? this.#replicationFactorMin : min
    const replicationFactorMax = max === 0 ? this.#replicationFactorMax : max
    checkReplicationFactors(replicationFactorMin, replicationFactorMax)
    const now = this.#clock.now()
    const everywhere = replicationFactorMin === -1 && replicationFactorMax === -1
    const pin = validatePin({
      ...input,
      replicationFactorMin,
      replicationFactorMax,
      // Pinning everywhere drops allocations given with the pin (1.x, #1319).
      allocations: everywhere ? [] : input.allocations,
      // Not an option: when the cluster received it (1.x).
      timestamp: now,
    })
    const existing = this.#consensus.state().get(pin.cid)
    checkPinAgainst(pin, existing, now)
    if (pin.type === 'meta-pin' || pin.allocations.length > 0 || everywhere) {
      return this.#consensus.logPin(pin, { signal })
    }
    const allocations = this.#allocate(pin, existing)
    // Debug only: a line per pin is noise under load.
    this.#logger.debug('pinning', { cid: pin.cid.toString(), allocations })
    return this.#consensus.logPin({ ...pin, allocations }, { signal })
  }

  /** 1.x's Cluster.allocate; no allocator or monitor: no allocations (everywhere). */
  #allocate(pin: Pin, existing: Pin | undefined): string[] {
    if (this.#monitor === undefined || this.#allocator === undefined) return []
    return allocate(this.#monitor, this.#allocator, {
      current: existing?.allocations ?? [],
      replicationFactorMin: pin.replicationFactorMin,
      replicationFactorMax: pin.replicationFactorMax,
      priority: pin.userAllocations,
    })
  }

  /**
   * 1.x's PinUpdate: the pin of `from` with its CID replaced by `to`, its allocations and
   * options kept (no allocation), a new name or a later expiry taken from `input`. As in 1.x,
   * the pin of `from` stays: `unpin` it to remove it.
   */
  async pinUpdate(from: CID, to: CID, input: PinInput, signal: AbortSignal): Promise<Pin> {
    const existing = this.#consensus.state().get(from)
    if (existing === undefined)
      throw new PinNotFoundError(
        `not found: pin-update names ${from.toString()}, which is not pinned in the cluster`,
      )
    if (existing.type !== 'pin') throw new PinOptionsError('this pin type cannot be updated')
    const now = this.#clock.now()
    const given = validatePin({ cid: to, name: input.name, expireAt: input.expireAt ?? null })
    const updated: PinInput = {
      ...existing,
      cid: to,
      timestamp: now,
      name: given.name !== '' ? given.name : existing.name,
      expireAt:
        given.expireAt !== null && given.expireAt > now ? given.expireAt : existing.expireAt,
    }
    this.#logger.debug('pin update', {
      from: from.toString(),
      to: to.toString(),
      allocations: existing.allocations,
    })
    return this.#consensus.logPin(updated, { signal })
  }
}
