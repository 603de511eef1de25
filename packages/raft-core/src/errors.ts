import type { NodeId } from './types.ts'

/**
 * Every error raft-core raises. Each has a stable `name` to test against (`err.name ===
 * 'NotLeaderError'`) and a message that says what happened and what to do.
 */

/** This node is not the leader; `leader` is the one it knows of, if any. */
export class NotLeaderError extends Error {
  static readonly code = 'NotLeaderError'
  override readonly name = 'NotLeaderError'
  readonly leader: NodeId | null
  constructor(leader: NodeId | null, operation = 'this operation') {
    super(
      leader === null
        ? `${operation} needs the leader, and no leader is known right now; retry once one is elected`
        : `${operation} needs the leader; send it to ${leader}`,
    )
    this.leader = leader
  }
}

/** A proposal was dropped before it reached the log (for example during a leadership transfer). */
export class ProposalDroppedError extends Error {
  static readonly code = 'ProposalDroppedError'
  override readonly name = 'ProposalDroppedError'
}

/**
 * The entry a proposal was given was replaced by another leader's entry: the proposal was not
 * and will never be committed. It is safe to retry.
 */
export class ProposalLostError extends Error {
  static readonly code = 'ProposalLostError'
  override readonly name = 'ProposalLostError'
}

/** A configuration change was refused; the message says which rule it broke. */
export class ConfigurationChangeError extends Error {
  static readonly code = 'ConfigurationChangeError'
  override readonly name = 'ConfigurationChangeError'
}

/** Another configuration change is not yet applied; only one may be in flight (thesis §4.1). */
export class ConfigurationChangeInProgressError extends Error {
  static readonly code = 'ConfigurationChangeInProgressError'
  override readonly name = 'ConfigurationChangeInProgressError'
}

/** A leadership transfer is under way, or the target cannot take over. */
export class LeadershipTransferError extends Error {
  static readonly code = 'LeadershipTransferError'
  override readonly name = 'LeadershipTransferError'
}

/** A request asks for log entries that are not stored (compacted, or past the end). */
export class LogRangeError extends Error {
  static readonly code = 'LogRangeError'
  override readonly name = 'LogRangeError'
}

/** A snapshot id is unknown to the store, or no longer retained. */
export class SnapshotNotFoundError extends Error {
  static readonly code = 'SnapshotNotFoundError'
  override readonly name = 'SnapshotNotFoundError'
}

/** A snapshot's data does not match its checksum or metadata. */
export class SnapshotCorruptError extends Error {
  static readonly code = 'SnapshotCorruptError'
  override readonly name = 'SnapshotCorruptError'
}

/** A store failed a write and refuses every further one until it is reopened (fail-stop). */
export class StorageFailedError extends Error {
  static readonly code = 'StorageFailedError'
  override readonly name = 'StorageFailedError'
}

/** Persisted state contradicts itself (for example a log that starts after its snapshot ends). */
export class StorageCorruptError extends Error {
  static readonly code = 'StorageCorruptError'
  override readonly name = 'StorageCorruptError'
}

/** The node was stopped before the operation finished; its outcome is unknown. */
export class NodeStoppedError extends Error {
  static readonly code = 'NodeStoppedError'
  override readonly name = 'NodeStoppedError'
}

/** The caller's signal aborted the wait; a proposal's outcome is then unknown. */
export class AbortedError extends Error {
  static readonly code = 'AbortedError'
  override readonly name = 'AbortedError'
}

/** Options given to a node or the core are invalid; the message names the option. */
export class InvalidOptionError extends Error {
  static readonly code = 'InvalidOptionError'
  override readonly name = 'InvalidOptionError'
}

/**
 * The node cannot tell whether an operation took effect: the caller gave up waiting, the node
 * stopped, or a snapshot replaced the entry before it was applied. Check the state before
 * retrying an operation that is not idempotent.
 */
export class OutcomeUnknownError extends Error {
  static readonly code = 'OutcomeUnknownError'
  override readonly name = 'OutcomeUnknownError'
}
