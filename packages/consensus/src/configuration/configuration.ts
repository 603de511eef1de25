import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidConfigurationError } from '../errors.ts'
import { formatDuration, parseDuration } from './duration.ts'

/**
 * The `consensus.raft` section of the service configuration, with IPFS Cluster's keys and
 * defaults (consensus/raft/config.go). Durations are milliseconds once resolved.
 */
export interface RaftConfiguration {
  /** Where the Raft log, stable state and snapshots live. Default: `raft` in the config folder. */
  readonly dataFolder: string
  /** Peer IDs a brand new cluster starts with (this peer is always added); ignored when staging. */
  readonly initPeerset: readonly string[]
  readonly waitForLeaderTimeout: number
  readonly networkTimeout: number
  readonly commitRetries: number
  readonly commitRetryDelay: number
  readonly backupsRotate: number
  readonly heartbeatTimeout: number
  readonly electionTimeout: number
  readonly commitTimeout: number
  readonly maxAppendEntries: number
  readonly trailingLogs: number
  readonly snapshotInterval: number
  readonly snapshotThreshold: number
  readonly leaderLeaseTimeout: number
  /** Remove this peer from the cluster when it shuts down. */
  readonly leaveOnShutdown: boolean
  /**
   * Peer IDs that may join (become members); empty: any peer holding the cluster secret may.
   * Enforced by the leader; members rejoining after a wipe are always let back in.
   */
  readonly joinAllowList: readonly string[]
  /** The leader removes a staging member that has not caught up this long after it was added. */
  readonly stagingTimeout: number
  /** The leader removes a staging or non-voting member it has not heard from for this long. */
  readonly nonVoterTimeout: number
}

/** The JSON form, as it appears in `service.json` (snake_case keys, Go duration strings). */
export interface RaftConfigurationJson {
  data_folder?: string
  init_peerset?: string[]
  wait_for_leader_timeout?: string
  network_timeout?: string
  commit_retries?: number
  commit_retry_delay?: string
  backups_rotate?: number
  heartbeat_timeout?: string
  election_timeout?: string
  commit_timeout?: string
  max_append_entries?: number
  trailing_logs?: number
  snapshot_interval?: string
  snapshot_threshold?: number
  leader_lease_timeout?: string
  leave_on_shutdown?: boolean
  join_allow_list?: string[]
  staging_timeout?: string
  non_voter_timeout?: string
}

export const defaultRaftConfigurationJson: Readonly<
  Required<Omit<RaftConfigurationJson, 'data_folder'>>
> = {
  init_peerset: [],
  wait_for_leader_timeout: '15s',
  network_timeout: '10s',
  commit_retries: 1,
  commit_retry_delay: '200ms',
  backups_rotate: 6,
  heartbeat_timeout: '1s',
  election_timeout: '1s',
  commit_timeout: '50ms',
  max_append_entries: 64,
  trailing_logs: 10240,
  snapshot_interval: '2m0s',
  snapshot_threshold: 8192,
  leader_lease_timeout: '500ms',
  leave_on_shutdown: false,
  join_allow_list: [],
  staging_timeout: '10m0s',
  non_voter_timeout: '30s',
}

const knownKeys = new Set<string>(['data_folder', ...Object.keys(defaultRaftConfigurationJson)])

function isPeerId(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    peerIdFromString(value)
    return true
  } catch {
    return false
  }
}

function integer(key: string, value: unknown, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw new InvalidConfigurationError(
      key,
      `must be an integer from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

function durationInRange(key: string, value: unknown, minimum: number, maximum: number): number {
  const milliseconds = parseDuration(key, value)
  if (milliseconds < minimum || milliseconds > maximum) {
    throw new InvalidConfigurationError(
      key,
      `must be from ${formatDuration(minimum)} to ${formatDuration(maximum)}, got ${JSON.stringify(value)}`,
    )
  }
  return milliseconds
}

/**
 * Validates and resolves the JSON section. Unknown keys are refused (a typo must not silently
 * fall back to a default); each error names the key and the allowed range.
 */
export function resolveRaftConfiguration(
  json: RaftConfigurationJson | undefined,
  defaults: { dataFolder: string },
): RaftConfiguration {
  const section: Record<string, unknown> = { ...(json ?? {}) }
  for (const key of Object.keys(section)) {
    if (!knownKeys.has(key)) {
      throw new InvalidConfigurationError(
        key,
        `is not a known key; the keys are ${[...knownKeys].sort().join(', ')}`,
      )
    }
  }
  const value = (key: keyof typeof defaultRaftConfigurationJson): unknown =>
    section[key] ?? defaultRaftConfigurationJson[key]
  const initPeerset = value('init_peerset')
  if (
    !Array.isArray(initPeerset) ||
    initPeerset.some((id) => typeof id !== 'string' || id === '')
  ) {
    throw new InvalidConfigurationError('init_peerset', 'must be a list of peer ID strings')
  }
  const dataFolder = section.data_folder ?? defaults.dataFolder
  if (typeof dataFolder !== 'string' || dataFolder === '') {
    throw new InvalidConfigurationError('data_folder', 'must be a non-empty path')
  }
  const leaveOnShutdown = value('leave_on_shutdown')
  if (typeof leaveOnShutdown !== 'boolean') {
    throw new InvalidConfigurationError(
      'leave_on_shutdown',
      `must be true or false, got ${JSON.stringify(leaveOnShutdown)}`,
    )
  }
  const joinAllowList = value('join_allow_list')
  if (!Array.isArray(joinAllowList) || joinAllowList.some((id) => !isPeerId(id))) {
    throw new InvalidConfigurationError(
      'join_allow_list',
      'must be a list of peer IDs (such as 12D3KooW...), or [] to let any peer holding the cluster secret join',
    )
  }
  const configuration: RaftConfiguration = {
    dataFolder,
    initPeerset: [...new Set(initPeerset as string[])],
    waitForLeaderTimeout: durationInRange(
      'wait_for_leader_timeout',
      value('wait_for_leader_timeout'),
      1,
      3_600_000,
    ),
    networkTimeout: durationInRange('network_timeout', value('network_timeout'), 1, 3_600_000),
    commitRetries: integer('commit_retries', value('commit_retries'), 0, 100),
    commitRetryDelay: durationInRange(
      'commit_retry_delay',
      value('commit_retry_delay'),
      0,
      600_000,
    ),
    backupsRotate: integer('backups_rotate', value('backups_rotate'), 0, 1000),
    heartbeatTimeout: durationInRange('heartbeat_timeout', value('heartbeat_timeout'), 10, 600_000),
    electionTimeout: durationInRange('election_timeout', value('election_timeout'), 10, 600_000),
    commitTimeout: durationInRange('commit_timeout', value('commit_timeout'), 0, 60_000),
    maxAppendEntries: integer('max_append_entries', value('max_append_entries'), 1, 65_536),
    trailingLogs: integer('trailing_logs', value('trailing_logs'), 0, 10_000_000),
    snapshotInterval: durationInRange(
      'snapshot_interval',
      value('snapshot_interval'),
      0,
      86_400_000,
    ),
    snapshotThreshold: integer('snapshot_threshold', value('snapshot_threshold'), 1, 100_000_000),
    leaderLeaseTimeout: durationInRange(
      'leader_lease_timeout',
      value('leader_lease_timeout'),
      5,
      600_000,
    ),
    leaveOnShutdown,
    joinAllowList: [...new Set(joinAllowList as string[])].sort(),
    stagingTimeout: durationInRange('staging_timeout', value('staging_timeout'), 1000, 86_400_000),
    nonVoterTimeout: durationInRange(
      'non_voter_timeout',
      value('non_voter_timeout'),
      1000,
      86_400_000,
    ),
  }
  if (configuration.nonVoterTimeout < 2 * configuration.heartbeatTimeout) {
    throw new InvalidConfigurationError(
      'non_voter_timeout',
      `(${formatDuration(configuration.nonVoterTimeout)}) must be at least twice heartbeat_timeout (${formatDuration(configuration.heartbeatTimeout)}), or live members would be removed between two heartbeats`,
    )
  }
  if (configuration.leaderLeaseTimeout > configuration.heartbeatTimeout) {
    throw new InvalidConfigurationError(
      'leader_lease_timeout',
      `(${formatDuration(configuration.leaderLeaseTimeout)}) must not exceed heartbeat_timeout (${formatDuration(configuration.heartbeatTimeout)}), as in hashicorp/raft`,
    )
  }
  return configuration
}

/** The JSON section with every key at its default, for `pinraft init`. */
export function defaultRaftConfiguration(): Required<Omit<RaftConfigurationJson, 'data_folder'>> {
  return { ...defaultRaftConfigurationJson, init_peerset: [], join_allow_list: [] }
}

/**
 * How IPFS Cluster's hashicorp/raft timings map onto raft-core's ticks: hashicorp sends
 * heartbeats every heartbeat_timeout / 10 and a follower campaigns after about
 * heartbeat_timeout without a leader; a candidate retries after election_timeout.
 */
export function raftTimings(configuration: RaftConfiguration): {
  tickInterval: number
  electionTicks: number
  heartbeatTicks: number
} {
  const tickInterval = Math.max(5, Math.floor(configuration.heartbeatTimeout / 10))
  const electionTicks = Math.max(
    2,
    Math.round(
      Math.max(configuration.heartbeatTimeout, configuration.electionTimeout) / tickInterval,
    ),
  )
  return { tickInterval, electionTicks, heartbeatTicks: 1 }
}
