import type { ProgressState } from '../tracker/progress.ts'
import type { Configuration, NodeId, Role } from '../types.ts'

/** The leader's view of one follower's replication. */
export interface FollowerProgress {
  readonly match: number
  readonly next: number
  readonly state: ProgressState
  readonly recentActive: boolean
  readonly inflight: number
  readonly paused: boolean
}

/** A snapshot of a node's Raft state, for operators and tests. */
export interface Status {
  readonly id: NodeId
  readonly role: Role
  readonly term: number
  readonly vote: NodeId | null
  readonly leader: NodeId | null
  readonly commitIndex: number
  /** Highest index handed out for application. */
  readonly appliedIndex: number
  readonly lastIndex: number
  readonly firstIndex: number
  readonly configuration: Configuration
  readonly leadTransferee: NodeId | null
  /** Leader only: every member's progress, keyed by node id. */
  readonly progress: Readonly<Record<NodeId, FollowerProgress>>
}
