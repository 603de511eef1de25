import { AllocationConfigurationError } from './errors.ts'
import type { Metric } from './metric.ts'

/** Metrics by name: for each name, at most one metric per peer. */
export type MetricsSet = ReadonlyMap<string, readonly Metric[]>

interface Partition {
  readonly value: string
  /** Peers in this partition, in their sorted order, and whether each was picked. */
  readonly peers: string[]
  /** The sum of its metrics' weights. */
  weight: number
  /** Its weight, or the sum of its sub-partitions' aggregated weights (1.x's tie-break). */
  aggregatedWeight: number
  next: number
  sub: Partitioned | null
}

interface Partitioned {
  readonly partitions: Partition[]
  index: number
  exhausted: boolean
}

/** Higher weight first; ties by peer ID so the result does not depend on arrival order. */
function sortByWeight(metrics: readonly Metric[]): Metric[] {
  return [...metrics].sort(
    (a, b) => b.weight - a.weight || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0),
  )
}

function partitionValues(sorted: readonly Metric[]): Partition[] {
  const partitions: Partition[] = []
  const byValue = new Map<string, Partition>()
  for (const metric of sorted) {
    // A partitionable metric groups every peer with an equal value (wherever the sort put it,
    // as 1.x's map by value); any other metric gets one partition per peer.
    const shared = metric.partitionable ? byValue.get(metric.value) : undefined
    if (shared !== undefined) {
      shared.peers.push(metric.peer)
      shared.weight += metric.weight
      shared.aggregatedWeight += metric.weight
      continue
    }
    const partition: Partition = {
      value: metric.value,
      peers: [metric.peer],
      weight: metric.weight,
      aggregatedWeight: metric.weight,
      next: 0,
      sub: null,
    }
    partitions.push(partition)
    if (metric.partitionable) byValue.set(metric.value, partition)
  }
  return partitions
}

function partitionMetrics(set: MetricsSet, by: readonly string[]): Partitioned {
  const [root, ...rest] = by
  const partitioned: Partitioned = {
    partitions: partitionValues(sortByWeight(set.get(root!) ?? [])),
    index: 0,
    exhausted: false,
  }
  if (rest.length > 0) {
    for (const partition of partitioned.partitions) {
      const members = new Set(partition.peers)
      const filtered = new Map<string, Metric[]>()
      for (const name of rest) {
        filtered.set(
          name,
          (set.get(name) ?? []).filter((metric) => members.has(metric.peer)),
        )
      }
      partition.sub = partitionMetrics(filtered, rest)
      partition.aggregatedWeight = partition.sub.partitions.reduce(
        (sum, sub) => sum + sub.aggregatedWeight,
        0,
      )
    }
  }
  // 1.x's order: heavier first; equal weights (every tag weighs 0) by the aggregated weight of
  // what they hold (the group with more free space first), then by value.
  partitioned.partitions.sort(
    (a, b) =>
      b.weight - a.weight ||
      b.aggregatedWeight - a.aggregatedWeight ||
      (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  )
  return partitioned
}

/** Takes the next peer, never twice from one partition while another still has peers. */
function chooseNext(partitioned: Partitioned): string | null {
  const count = partitioned.partitions.length
  if (count === 0 || partitioned.exhausted) return null
  for (let looked = 0; looked < count; looked++) {
    const partition = partitioned.partitions[partitioned.index]!
    partitioned.index = (partitioned.index + 1) % count
    let peer: string | null = null
    if (partition.sub !== null) peer = chooseNext(partition.sub)
    else if (partition.next < partition.peers.length) peer = partition.peers[partition.next++]!
    if (peer !== null) return peer
  }
  partitioned.exhausted = true
  return null
}

function sortedPeers(partitioned: Partitioned): string[] {
  const peers: string[] = []
  for (let peer = chooseNext(partitioned); peer !== null; peer = chooseNext(partitioned)) {
    peers.push(peer)
  }
  return peers
}

/**
 * 1.x's balanced allocator: partitions the candidates by the first `allocate_by` metric (peers
 * with equal partitionable values, such as a tag, share a partition), each partition by the next
 * metric, and so on; then picks one peer from each partition in turn, so that with
 * `["tag:group", "freespace"]` the replicas spread over the groups, the freest peer of each
 * group first. Priority peers (user allocations) come before every other candidate.
 */
export class BalancedAllocator {
  readonly allocateBy: readonly string[]

  constructor(init: { allocateBy: readonly string[] }) {
    if (init.allocateBy.length === 0)
      throw new AllocationConfigurationError(
        'allocator.balanced.allocate_by is empty: name at least one metric, e.g. ["freespace"]',
      )
    this.allocateBy = [...init.allocateBy]
  }

  /** The metric names the allocator needs from the monitor. */
  metrics(): readonly string[] {
    return this.allocateBy
  }

  /** Candidate peers in order of preference: the priority ones first. */
  allocate(candidates: MetricsSet, priority: MetricsSet): string[] {
    const first = sortedPeers(partitionMetrics(priority, this.allocateBy))
    const last = sortedPeers(partitionMetrics(candidates, this.allocateBy))
    return [...first, ...last]
  }
}
