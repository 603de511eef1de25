import { InvalidStatusFilterError } from './errors.ts'

/**
 * IPFS Cluster 1.x's TrackerStatus values (`api/types.go`), by their JSON names. `sharded` is
 * what a meta pin (the root of a sharded add) reports: it is never pinned on IPFS.
 */
export type TrackerStatus =
  | 'undefined'
  | 'cluster_error'
  | 'pin_error'
  | 'unpin_error'
  | 'pinned'
  | 'pinning'
  | 'unpinning'
  | 'unpinned'
  | 'remote'
  | 'pin_queued'
  | 'unpin_queued'
  | 'sharded'
  | 'unexpectedly_unpinned'

/** Every status a pin can be in (without `undefined`), in 1.x's bit order. */
export const trackerStatuses: readonly TrackerStatus[] = [
  'cluster_error',
  'pin_error',
  'unpin_error',
  'pinned',
  'pinning',
  'unpinning',
  'unpinned',
  'remote',
  'pin_queued',
  'unpin_queued',
  'sharded',
  'unexpectedly_unpinned',
]

/** 1.x's composite filter names. */
const composites: Readonly<Record<string, readonly TrackerStatus[]>> = {
  error: ['cluster_error', 'pin_error', 'unpin_error'],
  queued: ['pin_queued', 'unpin_queued'],
}

/** A set of statuses to keep; `null` keeps everything (1.x's TrackerStatusUndefined filter). */
export type StatusFilter = ReadonlySet<TrackerStatus> | null

/**
 * Parses a filter such as `pinned,pin_error` or `error,queued` (1.x's TrackerStatusFromString).
 * Unlike 1.x, which drops unknown names silently, an unknown name is an error that lists the
 * valid ones. An empty filter keeps everything.
 */
export function parseStatusFilter(text: string | undefined): StatusFilter {
  if (text === undefined || text.trim() === '') return null
  const wanted = new Set<TrackerStatus>()
  for (const entry of text.split(',')) {
    const name = entry.trim()
    if (name === '') continue
    const composite = composites[name]
    if (composite !== undefined) {
      for (const status of composite) wanted.add(status)
    } else if ((trackerStatuses as readonly string[]).includes(name)) {
      wanted.add(name as TrackerStatus)
    } else {
      throw new InvalidStatusFilterError(
        `invalid filter value ${JSON.stringify(name)}: use a comma-separated list of ${[...trackerStatuses, 'error', 'queued'].join(', ')}`,
      )
    }
  }
  return wanted.size === 0 ? null : wanted
}

/** Whether `status` passes `filter` (1.x's Match: an undefined status passes every filter). */
export function matchesFilter(status: TrackerStatus, filter: StatusFilter): boolean {
  return filter === null || status === 'undefined' || filter.has(status)
}

/** Statuses that only an operation in the tracker can have (no need to read the pinset or IPFS). */
export const operationStatuses: ReadonlySet<TrackerStatus> = new Set([
  'cluster_error',
  'pin_error',
  'unpin_error',
  'pinning',
  'unpinning',
  'unpinned',
  'pin_queued',
  'unpin_queued',
])
