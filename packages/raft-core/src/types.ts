/**
 * The values Raft is made of. Everything here is plain data: it can be cloned, compared and
 * encoded by any transport or store without knowing about the state machine that made it.
 */

/** A member of the cluster. With libp2p this is the peer ID string. */
export type NodeId = string

/**
 * - `normal`: a command for the state machine.
 * - `configuration`: an encoded {@link ConfigurationChange}; takes effect when applied.
 * - `noop`: written by a new leader (Raft thesis §6.4) and by barriers; never reaches the
 *   state machine.
 */
export type EntryType = 'normal' | 'configuration' | 'noop'

export interface Entry {
  readonly index: number
  readonly term: number
  readonly type: EntryType
  readonly data: Uint8Array
}

/** What a node must persist before it sends any message that depends on it (thesis §3.8). */
export interface HardState {
  readonly term: number
  /** The candidate this node voted for in `term`, or null. */
  readonly vote: NodeId | null
  readonly commit: number
}

/**
 * The members of the cluster and what each may do. Every list is sorted and a node appears in at
 * most one of them.
 *
 * - `voters` count towards elections and commitment.
 * - `nonVoters` receive the log but never vote (hashicorp/raft's "nonvoter").
 * - `staging` members are non-voters that the leader promotes to voters as soon as they have
 *   caught up with its log (IPFS Cluster's staging peers; hashicorp/raft's unimplemented
 *   "Staging" suffrage).
 */
export interface Configuration {
  readonly voters: readonly NodeId[]
  readonly nonVoters: readonly NodeId[]
  readonly staging: readonly NodeId[]
}

/**
 * One change to the configuration, carried by a `configuration` entry. Changes are single-server
 * changes (thesis §4.1): at most one is in flight at a time.
 *
 * - `bootstrap`: the initial configuration, written at index 1 by {@link bootstrapEntries}.
 * - `add-voter`: an absent node or a non-voter becomes staging, and is promoted once caught up.
 * - `add-non-voter`: an absent node becomes a non-voter.
 * - `promote`: a staging member becomes a voter (proposed by the leader itself).
 * - `remove`: the node leaves the configuration, whatever its role.
 */
export type ConfigurationChange =
  | { readonly type: 'bootstrap'; readonly configuration: Configuration }
  | {
      readonly type: 'add-voter' | 'add-non-voter' | 'promote' | 'remove'
      readonly node: NodeId
    }

/** Identifies the state a snapshot captures. The data itself lives in a `SnapshotStore`. */
export interface SnapshotMetadata {
  /** The index of the last entry the snapshot includes. */
  readonly index: number
  /** The term of that entry. */
  readonly term: number
  /** The configuration in force at `index`. */
  readonly configuration: Configuration
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

/** A linearizable read point: once `index` is applied, reads for `context` may be served. */
export interface ReadState {
  readonly index: number
  readonly context: string
}

export const emptyConfiguration: Configuration = Object.freeze({
  voters: Object.freeze([]),
  nonVoters: Object.freeze([]),
  staging: Object.freeze([]),
})
