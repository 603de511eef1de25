import type { Pin } from '@pinraft/state-pinset'
import { allocate, type MetricSource } from './allocate.ts'
import type { BalancedAllocator } from './balanced-allocator.ts'

/** A pin to re-commit with new allocations. */
export interface Reallocation {
  readonly pin: Pin
  readonly allocations: string[]
}

/**
 * 1.x's repinFromPeer, for every pin of `pins` allocated to `peer`: the allocations without
 * that peer, recomputed so that `replication_factor_min` holds again (current allocations kept,
 * the lost peer never chosen). A pin that still has `min` allocations elsewhere is left alone
 * when `onlyBelowMin`, as 1.x's allocate leaves it. A pin that cannot be placed is reported
 * through `onError` and skipped: the others still move.
 */
export async function* planReallocations(
  pins: AsyncIterable<Pin>,
  peer: string,
  source: MetricSource,
  allocator: BalancedAllocator,
  options: { onError?: (pin: Pin, error: unknown) => void; onlyBelowMin?: boolean } = {},
): AsyncGenerator<Reallocation> {
  for await (const pin of pins) {
    if (!pin.allocations.includes(peer)) continue
    if (pin.replicationFactorMin < 0 && pin.replicationFactorMax < 0) continue
    const current = pin.allocations.filter((allocation) => allocation !== peer)
    try {
      const allocations = allocate(source, allocator, {
        current: options.onlyBelowMin === false ? current : pin.allocations,
        replicationFactorMin: pin.replicationFactorMin,
        replicationFactorMax: pin.replicationFactorMax,
        blacklist: [peer],
        priority: pin.userAllocations,
      })
      const same =
        allocations.length === pin.allocations.length &&
        allocations.every((allocation) => pin.allocations.includes(allocation))
      if (!same) yield { pin, allocations }
    } catch (error) {
      options.onError?.(pin, error)
    }
  }
}
