import type { AbortOptions, Consensus } from '@pinraft/consensus'
import type { Logger } from '@pinraft/raft-core'
import type { Pin } from '@pinraft/state-pinset'
import type { MetricSource } from './allocate.ts'
import type { BalancedAllocator } from './balanced-allocator.ts'
import { planReallocations } from './repin.ts'

export interface ReallocateComponents {
  readonly consensus: Pick<Consensus, 'state' | 'logPin'>
  readonly metrics: MetricSource
  readonly allocator: BalancedAllocator
  readonly logger: Logger
  now(): number
}

export interface ReallocateOptions extends AbortOptions {
  /**
   * 1.x's repinning after an alert: only pins whose `replication_factor_min` no longer holds
   * without the peer move (the peer may come back). False for a peer removed for good: every
   * pin allocated to it moves.
   */
  readonly onlyBelowMin: boolean
  /** How many new allocations are being committed at once. */
  readonly concurrency: number
}

export interface ReallocateResult {
  /** Pins committed with new allocations. */
  readonly moved: number
  /** Pins that could not be placed (not enough peers) or whose commit failed. */
  readonly failed: number
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * 1.x's repinFromPeer for every pin allocated to `peer`, the peer blacklisted: new allocations
 * are computed from the monitor's metrics and committed through consensus, `concurrency` at a
 * time. A pin that cannot be placed or committed is logged and counted; the others still move.
 */
export async function reallocatePeer(
  components: ReallocateComponents,
  peer: string,
  options: ReallocateOptions,
): Promise<ReallocateResult> {
  const { consensus, logger } = components
  const signal = options.signal
  let moved = 0
  let failed = 0
  const onError = (pin: Pin, error: unknown) => {
    failed++
    logger.warn('could not re-allocate a pin', {
      cid: pin.cid.toString(),
      from: peer,
      error: messageOf(error),
    })
  }
  const inFlight = new Set<Promise<void>>()
  const plans = planReallocations(
    consensus.state().list(signal === undefined ? {} : { signal }),
    peer,
    components.metrics,
    components.allocator,
    { onError, onlyBelowMin: options.onlyBelowMin },
  )
  for await (const { pin, allocations } of plans) {
    signal?.throwIfAborted()
    const commit = (async () => {
      // Unpinned or re-pinned since it was read: the newer pin wins.
      const current = consensus.state().get(pin.cid.toString())
      if (current === undefined || current.timestamp !== pin.timestamp) return
      try {
        await consensus.logPin(
          { ...pin, allocations, timestamp: components.now() },
          signal === undefined ? {} : { signal },
        )
        moved++
        logger.debug('re-allocated a pin', {
          cid: pin.cid.toString(),
          from: pin.allocations,
          to: allocations,
        })
      } catch (error) {
        if (signal?.aborted === true) return
        onError(pin, error)
      }
    })()
    inFlight.add(commit)
    void commit.finally(() => inFlight.delete(commit))
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  return { moved, failed }
}
