import { describe, expect, it } from 'vitest'
import {
  defaultRaftConfiguration,
  formatDuration,
  parseDuration,
  raftTimings,
  resolveRaftConfiguration,
} from '../src/index.ts'

const folder = { dataFolder: '/tmp/raft' }

describe('consensus.raft configuration', () => {
  it("has IPFS Cluster's keys and defaults, plus pinraft's bounds on joins", () => {
    expect(defaultRaftConfiguration()).toEqual({
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
    })
    const resolved = resolveRaftConfiguration(undefined, folder)
    expect(resolved.waitForLeaderTimeout).toBe(15_000)
    expect(resolved.snapshotInterval).toBe(120_000)
    expect(resolved.dataFolder).toBe('/tmp/raft')
    expect(resolved.joinAllowList).toEqual([])
    expect(resolved.stagingTimeout).toBe(600_000)
    expect(resolved.nonVoterTimeout).toBe(30_000)
    const allowed = '12D3KooWGRUVh2aPhWFXCbFBcDPNgqnGhDUxhDbTNmTW3PUy9Z2X'
    expect(
      resolveRaftConfiguration({ join_allow_list: [allowed, allowed] }, folder).joinAllowList,
    ).toEqual([allowed])
  })

  it('maps hashicorp timings onto raft-core ticks', () => {
    expect(raftTimings(resolveRaftConfiguration(undefined, folder))).toEqual({
      tickInterval: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
    })
  })

  it('parses and formats Go durations', () => {
    expect(parseDuration('k', '2m0s')).toBe(120_000)
    expect(parseDuration('k', '1h30m')).toBe(5_400_000)
    expect(parseDuration('k', '1.5s')).toBe(1500)
    expect(parseDuration('k', '250us')).toBe(0.25)
    expect(formatDuration(120_000)).toBe('2m0s')
    expect(formatDuration(200)).toBe('200ms')
  })

  it.each([
    [{ commit_retries: -1 }, 'commit_retries', /integer from 0 to 100/],
    [{ max_append_entries: 0 }, 'max_append_entries', /integer from 1/],
    [{ heartbeat_timeout: 'soon' }, 'heartbeat_timeout', /duration such as/],
    [{ election_timeout: '1ms' }, 'election_timeout', /must be from 10ms/],
    [{ leader_lease_timeout: '2s' }, 'leader_lease_timeout', /must not exceed heartbeat_timeout/],
    [{ init_peerset: ['', 'x'] }, 'init_peerset', /list of peer ID strings/],
    [{ leave_on_shutdown: 'yes' }, 'leave_on_shutdown', /true or false/],
    [{ snapshot_treshold: 5 }, 'snapshot_treshold', /not a known key/],
    [{ join_allow_list: ['not-a-peer'] }, 'join_allow_list', /list of peer IDs/],
    [{ join_allow_list: 'anyone' }, 'join_allow_list', /list of peer IDs/],
    [{ staging_timeout: '10ms' }, 'staging_timeout', /must be from 1s/],
    [{ non_voter_timeout: '1s' }, 'non_voter_timeout', /at least twice heartbeat_timeout/],
  ])('refuses %j with an error naming %s', (json, key, message) => {
    let caught: unknown
    try {
      resolveRaftConfiguration(json as never, folder)
    } catch (error) {
      caught = error
    }
    expect((caught as Error).name).toBe('InvalidConfigurationError')
    expect((caught as { key: string }).key).toBe(key)
    expect((caught as Error).message).toContain(`consensus.raft.${key}`)
    expect((caught as Error).message).toMatch(message)
  })
})
