import type { BalancedAllocator } from './balanced-allocator.ts'
import { AllocationError, ReplicationFactorError } from './errors.ts'
import type { Metric } from './metric.ts'

/** The latest valid, unexpired metric of a name from every peer (the monitor has them). */
export interface MetricSource {
  latestMetrics(name: string): Metric[]
}

export interface AllocateRequest {
  /** The pin's current allocations (empty for a new pin). */
  readonly current: readonly string[]
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  /** Peers never to allocate (a peer being removed, a dead one). */
  readonly blacklist?: readonly string[]
  /** Peers to prefer (the pin's user allocations). */
  readonly priority?: readonly string[]
}

interface Classified {
  readonly current: string[]
  readonly candidates: Map<string, Metric[]>
  readonly priority: Map<string, Metric[]>
  readonly candidatePeers: string[]
  readonly priorityPeers: string[]
}

function toSet(byPeer: Map<string, Metric[]>, peers: readonly string[]): Map<string, Metric[]> {
  const set = new Map<string, Metric[]>()
  for (const peer of peers) {
    for (const metric of byPeer.get(peer) ?? []) {
      const list = set.get(metric.name)
      if (list === undefined) set.set(metric.name, [metric])
      else list.push(metric)
    }
  }
  return set
}

/**
 * 1.x's filterMetrics: splits the peers into current, priority and candidates, keeping only the
 * peers with a valid metric of every name the allocator uses.
 */
function classify(
  source: MetricSource,
  names: readonly string[],
  request: AllocateRequest,
): Classified {
  const byPeer = new Map<string, Metric[]>()
  for (const name of names) {
    for (const metric of source.latestMetrics(name)) {
      const list = byPeer.get(metric.peer)
      if (list === undefined) byPeer.set(metric.peer, [metric])
      else list.push(metric)
    }
  }
  const blacklist = new Set(request.blacklist ?? [])
  const currentSet = new Set(request.current)
  const prioritySet = new Set(request.priority ?? [])
  const complete = (peer: string) =>
    !blacklist.has(peer) && (byPeer.get(peer)?.length ?? 0) === names.length
  const current = request.current.filter(complete)
  const priorityPeers = [...byPeer.keys()]
    .filter((peer) => complete(peer) && !currentSet.has(peer) && prioritySet.has(peer))
    .sort()
  const candidatePeers = [...byPeer.keys()]
    .filter((peer) => complete(peer) && !currentSet.has(peer) && !prioritySet.has(peer))
    .sort()
  return {
    current,
    candidatePeers,
    priorityPeers,
    candidates: toSet(byPeer, candidatePeers),
    priority: toSet(byPeer, priorityPeers),
  }
}

/**
 * 1.x's Cluster.allocate: the allocations for a pin with replication factors. `-1/-1` is
 * everywhere (no allocations). Current allocations with valid metrics are kept; when there are
 * at least `min` of them nothing changes (so a re-pin does not move a pin), above `max` the
 * extra ones are dropped; otherwise the allocator's best candidates are added up to `max`, and
 * fewer than `min` available is 1.x's "not enough peers to allocate CID" error.
 */
export function allocate(
  source: MetricSource,
  allocator: BalancedAllocator,
  request: AllocateRequest,
): string[] {
  const { replicationFactorMin: min, replicationFactorMax: max } = request
  if (min + max === 0) throw new ReplicationFactorError(`bad replication factors: ${min}/${max}`)
  if (min < 0 && max < 0) return []
  const classified = classify(source, allocator.metrics(), request)
  const currentValid = classified.current.length
  const needed = min - currentValid
  const wanted = max - currentValid
  if (wanted < 0) return classified.current.slice(0, currentValid + wanted)
  if (needed <= 0) return [...request.current]
  const available = [...classified.priorityPeers, ...classified.candidatePeers]
  if (available.length < needed) throw new AllocationError(needed, wanted, available)
  const ordered = allocator.allocate(classified.candidates, classified.priority)
  if (ordered.length < needed) throw new AllocationError(needed, wanted, ordered)
  return [...classified.current, ...ordered.slice(0, Math.min(wanted, ordered.length))]
}
