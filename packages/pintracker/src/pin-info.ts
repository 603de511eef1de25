import type { CID } from 'multiformats/cid'
import type { TrackerStatus } from './tracker-status.ts'

/**
 * One peer's status of one CID: IPFS Cluster 1.x's `api.PinInfo` (the pin's fields, then the
 * embedded PinInfoShort), camelCased. Times are milliseconds since the epoch; null is unset.
 */
export interface PinInfo {
  readonly cid: CID
  readonly name: string
  /** The cluster peer this status is from. */
  readonly peer: string
  readonly allocations: readonly string[]
  readonly origins: readonly string[]
  /** When the pin was submitted (the pin's timestamp). */
  readonly created: number | null
  readonly metadata: Readonly<Record<string, string>>
  readonly peername: string
  /** The peer's IPFS node ID; '' when it could not be read. */
  readonly ipfsPeerId: string
  readonly ipfsPeerAddresses: readonly string[]
  readonly status: TrackerStatus
  /** When the status last changed (an operation's phase) or, derived from IPFS, the pin's timestamp. */
  readonly timestamp: number | null
  readonly error: string
  /** How many times the current operation was attempted (kept across retries of the same kind). */
  readonly attemptCount: number
  /** Whether the pin went through the priority queue (new and not retried too often). */
  readonly priorityPin: boolean
}
