/**
 * The errors `@pinraft/consensus` raises, each with a stable `name`. Errors from raft-core
 * (`NotLeaderError`, `StorageFailedError`, ...) pass through unchanged.
 */

/** A configuration key has a value outside what it allows; the message names the key. */
export class InvalidConfigurationError extends Error {
  static readonly code = 'InvalidConfigurationError'
  override readonly name = 'InvalidConfigurationError'
  readonly key: string
  constructor(key: string, problem: string) {
    super(`consensus.raft.${key} ${problem}`)
    this.key = key
  }
}

/** No leader was elected within `wait_for_leader_timeout`. */
export class NoLeaderError extends Error {
  static readonly code = 'NoLeaderError'
  override readonly name = 'NoLeaderError'
}

/**
 * The operation was sent but no answer came in time (timeout, lost leader, node stopped): it may
 * or may not have been applied. Read the state before retrying something that is not idempotent.
 */
export class OutcomeUnknownError extends Error {
  static readonly code = 'OutcomeUnknownError'
  override readonly name = 'OutcomeUnknownError'
}

/** The leader refused the operation (the message says why); retrying will not help. */
export class OperationRejectedError extends Error {
  static readonly code = 'OperationRejectedError'
  override readonly name = 'OperationRejectedError'
}

/** Removing this peer would leave the cluster without any voter. */
export class LastPeerError extends Error {
  static readonly code = 'LastPeerError'
  override readonly name = 'LastPeerError'
}

/** The consensus component is shut down (or was removed from the cluster). */
export class ConsensusShutdownError extends Error {
  static readonly code = 'ConsensusShutdownError'
  override readonly name = 'ConsensusShutdownError'
}

/** A request over the consensus RPC protocol was malformed or came from a non-member. */
export class RpcError extends Error {
  static readonly code = 'RpcError'
  override readonly name = 'RpcError'
}

/**
 * Another peer is joining (added, not yet caught up): the leader lets one join at a time.
 * Retry in a moment; the message names the peer that is joining.
 */
export class JoinInProgressError extends Error {
  static readonly code = 'JoinInProgressError'
  override readonly name = 'JoinInProgressError'
}

/** The peer is not in the leader's `consensus.raft.join_allow_list`; retrying cannot help. */
export class JoinNotAllowedError extends Error {
  static readonly code = 'JoinNotAllowedError'
  override readonly name = 'JoinNotAllowedError'
}

/**
 * This peer's Raft state says it is no longer a member of its cluster (it was removed, left, or
 * its state was cleaned), so starting would silently begin a new cluster. The message says how
 * to rejoin; `newCluster: true` starts a new cluster on purpose.
 */
export class RemovedFromClusterError extends Error {
  static readonly code = 'RemovedFromClusterError'
  override readonly name = 'RemovedFromClusterError'
}
