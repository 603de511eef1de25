import { InvalidOptionError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { RaftOptions } from '../raft/options.ts'

export interface RaftNodeInit extends Omit<RaftOptions, 'random' | 'logger'> {
  /** Milliseconds per Raft tick. Default 100 (so 10 election ticks = 1 s). */
  tickInterval?: number
  /**
   * Take a snapshot once this many entries were applied since the last one (IPFS Cluster's
   * `snapshot_threshold`). Default 8192.
   */
  snapshotThreshold?: number
  /** Entries kept in the log behind a snapshot, for followers slightly behind. Default 10240. */
  trailingLogs?: number
  /** Randomness for election timeouts. Default `Math.random`. */
  random?: () => number
  /**
   * Milliseconds a leader may hold an append that carries no entries (the new commit index,
   * sent as soon as an entry commits, as etcd-io/raft does) in case another append to the same
   * follower replaces it: a closed-loop client's next proposal then brings the commit index with
   * its entries, and a round costs one message each way per follower instead of two. Followers
   * learn a commit index up to this much later (hashicorp/raft, IPFS Cluster's Raft library,
   * always leaves it to the next append or heartbeat); `flushCommitNotifications(peer)` sends a
   * held one at once. Default 0: every append leaves at once.
   */
  commitNotificationDelay?: number
}

/** `RaftNodeInit` with its defaults applied and checked. */
export interface NodeOptions {
  readonly tickInterval: number
  readonly snapshotThreshold: number
  readonly trailingLogs: number
  readonly commitNotificationDelay: number
  /** The largest entry a proposal may make: one must fit in one append message. */
  readonly maxEntryBytes: number
  /** What the core (`RawNode`) is given. */
  readonly raftOptions: RaftOptions
}

/** Applies the defaults; throws `InvalidOptionError` saying which option is wrong and why. */
export function resolveNodeOptions(init: RaftNodeInit, logger: Logger): NodeOptions {
  const tickInterval = init.tickInterval ?? 100
  const snapshotThreshold = init.snapshotThreshold ?? 8192
  const trailingLogs = init.trailingLogs ?? 10240
  const commitNotificationDelay = init.commitNotificationDelay ?? 0
  if (!(tickInterval > 0)) {
    throw new InvalidOptionError(
      `tickInterval must be a positive number of milliseconds, got ${init.tickInterval}`,
    )
  }
  if (!Number.isInteger(snapshotThreshold) || snapshotThreshold < 1) {
    throw new InvalidOptionError(
      `snapshotThreshold must be a positive integer, got ${init.snapshotThreshold}`,
    )
  }
  if (!Number.isInteger(trailingLogs) || trailingLogs < 0) {
    throw new InvalidOptionError(
      `trailingLogs must be a non-negative integer, got ${init.trailingLogs}`,
    )
  }
  if (!Number.isFinite(commitNotificationDelay) || commitNotificationDelay < 0) {
    throw new InvalidOptionError(
      `commitNotificationDelay must be a non-negative number of milliseconds, got ${init.commitNotificationDelay}`,
    )
  }
  const {
    tickInterval: _t,
    snapshotThreshold: _s,
    trailingLogs: _l,
    commitNotificationDelay: _c,
    random,
    ...rest
  } = init
  return {
    tickInterval,
    snapshotThreshold,
    trailingLogs,
    commitNotificationDelay,
    maxEntryBytes: init.maxBytesPerMessage ?? 1024 * 1024,
    raftOptions: { ...rest, random: random ?? Math.random, logger },
  }
}
