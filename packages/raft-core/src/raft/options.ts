import { InvalidOptionError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'

/** Tunables of the Raft state machine. Times are in ticks: the driver decides a tick's length. */
export interface RaftOptions {
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is
   * drawn at random from [electionTicks, 2 × electionTicks) (paper §5.2). Default 10.
   */
  electionTicks?: number
  /** Ticks between a leader's heartbeats; must be less than `electionTicks`. Default 1. */
  heartbeatTicks?: number
  /** Run a PreVote round before a real election (thesis §9.6). Default true. */
  preVote?: boolean
  /**
   * A leader that has not heard from a quorum within an election timeout steps down, and
   * followers that hear from a leader ignore votes for that long (thesis §6.2). Default true.
   */
  checkQuorum?: boolean
  /** Most entries in one append message (IPFS Cluster's `max_append_entries`). Default 64. */
  maxEntriesPerMessage?: number
  /** Most bytes of entries in one append message (one entry always fits). Default 1 MiB. */
  maxBytesPerMessage?: number
  /** Most append messages in flight to one follower. Default 256. */
  maxInflightMessages?: number
  /** Most bytes of entries in flight to one follower; 0 for no limit. Default 32 MiB. */
  maxInflightBytes?: number
  /** Most committed entries handed out in one Ready. Default 4096. */
  maxCommittedEntriesPerReady?: number
  /** Most proposals queued behind uncommitted ones, in entries; 0 for no limit. Default 0. */
  maxUncommittedEntries?: number
  /** Randomness for election timeouts: returns a number in [0, 1). Injected for determinism. */
  random: () => number
  logger?: Logger
}

export type ResolvedRaftOptions = Required<RaftOptions>

function positiveInteger(name: string, value: number, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) {
    throw new InvalidOptionError(
      `${name} must be an integer of at least ${minimum}, got ${String(value)}`,
    )
  }
  return value
}

export function resolveRaftOptions(options: RaftOptions): ResolvedRaftOptions {
  const resolved: ResolvedRaftOptions = {
    electionTicks: positiveInteger('electionTicks', options.electionTicks ?? 10, 2),
    heartbeatTicks: positiveInteger('heartbeatTicks', options.heartbeatTicks ?? 1),
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    maxEntriesPerMessage: positiveInteger(
      'maxEntriesPerMessage',
      options.maxEntriesPerMessage ?? 64,
    ),
    maxBytesPerMessage: positiveInteger(
      'maxBytesPerMessage',
      options.maxBytesPerMessage ?? 1024 * 1024,
    ),
    maxInflightMessages: positiveInteger('maxInflightMessages', options.maxInflightMessages ?? 256),
    maxInflightBytes: positiveInteger(
      'maxInflightBytes',
      options.maxInflightBytes ?? 32 * 1024 * 1024,
      0,
    ),
    maxCommittedEntriesPerReady: positiveInteger(
      'maxCommittedEntriesPerReady',
      options.maxCommittedEntriesPerReady ?? 4096,
    ),
    maxUncommittedEntries: positiveInteger(
      'maxUncommittedEntries',
      options.maxUncommittedEntries ?? 0,
      0,
    ),
    random: options.random,
    logger: options.logger ?? silentLogger,
  }
  if (typeof resolved.random !== 'function') {
    throw new InvalidOptionError('random must be a function returning a number in [0, 1)')
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new InvalidOptionError(
      `heartbeatTicks (${resolved.heartbeatTicks}) must be less than electionTicks (${resolved.electionTicks}), or followers time out between heartbeats`,
    )
  }
  return resolved
}
