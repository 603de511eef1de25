import { type Clock, systemClock } from '@pinraft/raft-core'
import type { Metric } from './metric.ts'

export interface AbortOptions {
  signal?: AbortSignal
}

/** 1.x's Informer: measures something about this peer, as metrics valid for `metricTtl`. */
export interface Informer {
  /** The metric names it produces (`tags` produces one `tag:<key>` per tag). */
  readonly names: readonly string[]
  getMetrics(options?: AbortOptions): Promise<Metric[]>
}

interface Common {
  readonly peer: string
  /** The system clock when unset. */
  readonly clock?: Clock
  /** `metric_ttl` in milliseconds (1.x: 30s). */
  readonly metricTtl: number
}

function metric(
  common: Common,
  name: string,
  value: string,
  valid: boolean,
  weight: number,
  partitionable = false,
): Metric {
  return {
    name,
    peer: common.peer,
    value,
    expire: (common.clock ?? systemClock).now() + common.metricTtl,
    valid,
    weight,
    partitionable,
    receivedAt: 0,
  }
}

/** What the disk informers read from the IPFS node (the connector's repoStat). */
export interface RepoStatSource {
  repoStat(options?: AbortOptions): Promise<{ repoSize: number; storageMax: number }>
}

/**
 * 1.x's disk informer: `freespace` (storage max minus repo size, 0 when full; more free sorts
 * first) or `reposize` (smaller sorts first). An IPFS node that cannot answer gives an invalid
 * metric, so the peer is left out of allocations rather than guessed at.
 */
export function createDiskInformer(
  components: { connector: RepoStatSource } & Common,
  metricType: 'freespace' | 'reposize',
): Informer {
  return {
    names: [metricType],
    async getMetrics(options) {
      try {
        const stat = await components.connector.repoStat(options)
        const free = Math.max(0, stat.storageMax - stat.repoSize)
        const measured = metricType === 'freespace' ? free : stat.repoSize
        const weight = metricType === 'freespace' ? measured : -measured
        return [metric(components, metricType, String(measured), true, weight)]
      } catch {
        options?.signal?.throwIfAborted()
        return [metric(components, metricType, '', false, 0)]
      }
    },
  }
}

/** 1.x's numpin informer: how many pins the IPFS node has (fewer sorts first). */
export function createNumpinInformer(
  components: { countPins(options?: AbortOptions): Promise<number> } & Common,
): Informer {
  return {
    names: ['numpin'],
    async getMetrics(options) {
      try {
        const count = await components.countPins(options)
        return [metric(components, 'numpin', String(count), true, -count)]
      } catch {
        options?.signal?.throwIfAborted()
        return [metric(components, 'numpin', '', false, 0)]
      }
    },
  }
}

/** 1.x's tags informer: one partitionable `tag:<key>` metric per configured tag. */
export function createTagsInformer(
  components: Common,
  tags: Readonly<Record<string, string>>,
): Informer {
  const keys = Object.keys(tags).sort()
  return {
    names: keys.map((key) => `tag:${key}`),
    async getMetrics() {
      return keys.map((key) => metric(components, `tag:${key}`, tags[key] ?? '', true, 0, true))
    },
  }
}

/**
 * 1.x's pinqueue informer: the tracker's pin queue length; shorter sorts first, in buckets of
 * `weightBucketSize` so that small differences do not reorder peers.
 */
export function createPinQueueInformer(
  components: { tracker: { pinQueueSize(): number } } & Common,
  weightBucketSize = 100_000,
): Informer {
  return {
    names: ['pinqueue'],
    async getMetrics() {
      const size = components.tracker.pinQueueSize()
      const bucket = weightBucketSize > 0 ? Math.floor(size / weightBucketSize) : size
      return [metric(components, 'pinqueue', String(size), true, -bucket)]
    },
  }
}
