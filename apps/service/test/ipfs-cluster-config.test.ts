import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CliIo } from '../src/cli/io.ts'
import { runCli } from '../src/cli/program.ts'
import { generateIdentity, identityToJson } from '../src/config/identity.ts'
import { loadServiceConfiguration } from '../src/config/service-configuration.ts'
import { newPeerId } from './support/api-fixture.ts'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-ipfs-cluster-'))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const secret = randomBytes(32).toString('hex')

/** A service.json with the sections and keys ipfs-cluster-service 1.1 writes for raft. */
function ipfsClusterServiceJson(): Record<string, unknown> {
  return {
    cluster: {
      peername: 'ipfs-peer-1',
      secret,
      leave_on_shutdown: true,
      listen_multiaddress: ['/ip4/0.0.0.0/tcp/9096', '/ip6/::/tcp/9096'],
      announce_multiaddress: [],
      no_announce_multiaddress: [],
      enable_relay_hop: true,
      connection_manager: { high_water: 400, low_water: 100, grace_period: '2m0s' },
      resource_manager: { enabled: true, memory_limit_bytes: 0, file_descriptors_limit: 0 },
      dial_peer_timeout: '3s',
      state_sync_interval: '5m0s',
      pin_recover_interval: '12m0s',
      replication_factor: 2,
      monitor_ping_interval: '15s',
      peer_watch_interval: '5s',
      mdns_interval: '10s',
      pin_only_on_trusted_peers: false,
      disable_repinning: true,
      peer_addresses: [],
    },
    consensus: {
      raft: {
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
        datastore_namespace: '/r',
      },
    },
    api: {
      ipfsproxy: { listen_multiaddress: '/ip4/127.0.0.1/tcp/9095' },
      pinsvcapi: { http_listen_multiaddress: '/ip4/127.0.0.1/tcp/9097' },
      restapi: {
        http_listen_multiaddress: '/ip4/127.0.0.1/tcp/9094',
        read_timeout: '0s',
        read_header_timeout: '5s',
        write_timeout: '0s',
        idle_timeout: '2m0s',
        max_header_bytes: 4096,
        basic_auth_credentials: null,
        http_log_file: '',
        headers: {},
        cors_allowed_origins: ['*'],
        cors_allowed_methods: ['GET'],
        cors_allowed_headers: [],
        cors_exposed_headers: [
          'Content-Type',
          'X-Stream-Output',
          'X-Chunked-Output',
          'X-Content-Length',
        ],
        cors_allow_credentials: true,
        cors_max_age: '0s',
      },
    },
    ipfs_connector: { ipfshttp: { node_multiaddress: '/ip4/127.0.0.1/tcp/5001' } },
    pin_tracker: { stateless: { concurrent_pins: 10 } },
    monitor: { pubsubmon: { check_interval: '20s' } },
    allocator: { balanced: { allocate_by: ['tag:region', 'freespace'] } },
    informer: {
      disk: { metric_ttl: '45s', metric_type: 'freespace' },
      numpin: { metric_ttl: '10s' },
      tags: { metric_ttl: '30s', tags: { region: 'eu' } },
    },
    observations: { metrics: { enable_stats: false } },
    datastore: { pebble: { pebble_options: {} } },
  }
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stdin: Readable.from([]),
    interactive: false,
    environment: { HOME: root, PATH: '' },
  }
  return { code: await runCli(args, io), stdout, stderr }
}

describe('an IPFS Cluster 1.x service.json', () => {
  it('is refused with one message naming every key pinraft does not read, and what each is', async () => {
    const folder = join(root, 'peer')
    await mkdir(folder)
    await writeFile(join(folder, 'service.json'), JSON.stringify(ipfsClusterServiceJson()))
    const error = await loadServiceConfiguration(folder, {}).then(
      () => new Error('loaded'),
      (failure: Error) => failure,
    )
    expect(error.name).toBe('UnknownConfigurationKeysError')
    const keys = (error as Error & { keys: string[] }).keys
    for (const key of [
      'cluster.leave_on_shutdown',
      'cluster.replication_factor',
      'cluster.connection_manager',
      'cluster.mdns_interval',
      'consensus.raft.datastore_namespace',
      'api.ipfsproxy.listen_multiaddress',
      'api.restapi.read_timeout',
      'api.restapi.http_log_file',
      'cluster.peer_watch_interval',
      'datastore.pebble.pebble_options',
    ])
      expect(keys).toContain(key)
    // The monitor, allocator and informers are pinraft's too now.
    for (const key of [
      'cluster.monitor_ping_interval',
      'cluster.disable_repinning',
      'monitor.pubsubmon.check_interval',
      'informer.disk.metric_ttl',
      'informer.tags.tags',
      'allocator.balanced.allocate_by',
    ])
      expect(keys).not.toContain(key)
    // Keys pinraft has are not among them.
    expect(keys).not.toContain('cluster.peername')
    expect(keys).not.toContain('api.restapi.cors_max_age')
    expect(keys).not.toContain('ipfs_connector.ipfshttp.node_multiaddress')
    expect(keys).not.toContain('pin_tracker.stateless.concurrent_pins')
    expect(error.message).toContain(
      'cluster.leave_on_shutdown: is consensus.raft.leave_on_shutdown',
    )
    expect(error.message).toContain('cluster.replication_factor: is cluster.replication_factor_min')
    expect(error.message).toMatch(/datastore\.pebble\.pebble_options: no equivalent/)
    expect(error.message).toContain('init --from')
  })

  it('is converted by init --from with its identity, secret, keys and peerstore', async () => {
    const source = join(root, 'ipfs-cluster')
    await mkdir(source)
    const identity = await generateIdentity()
    const member = `/ip4/192.0.2.7/tcp/9096/p2p/${await newPeerId()}`
    await writeFile(join(source, 'service.json'), JSON.stringify(ipfsClusterServiceJson()))
    await writeFile(join(source, 'identity.json'), JSON.stringify(identityToJson(identity)))
    await writeFile(join(source, 'peerstore'), `${member}\n`)
    const folder = join(root, 'pinraft')
    const result = await run(['--config', folder, 'init', '--from', source])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`peer ID: ${identity.peerId}`)
    expect(result.stdout).toContain('datastore.pebble.pebble_options: no equivalent')
    expect(result.stdout).not.toContain('monitor.pubsubmon')
    expect(result.stdout).not.toMatch(/- cluster\.leave_on_shutdown/)
    expect(result.stdout).toContain('state import')
    const configuration = await loadServiceConfiguration(folder, {})
    expect(configuration.cluster).toMatchObject({
      peername: 'ipfs-peer-1',
      secret,
      listenMultiaddresses: ['/ip4/0.0.0.0/tcp/9096', '/ip6/::/tcp/9096'],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect(configuration.raft.leaveOnShutdown).toBe(true)
    // Beside its Kubo it stays beside its Kubo, not on an embedded node.
    expect(configuration.ipfsConnector.kind).toBe('ipfshttp')
    expect(configuration.pinTracker.concurrentPins).toBe(10)
    // The monitor, allocator and informer keys are carried over.
    expect(configuration.cluster.monitorPingInterval).toBe(15_000)
    expect(configuration.cluster.disableRepinning).toBe(true)
    expect(configuration.allocation.monitor.checkInterval).toBe(20_000)
    expect(configuration.allocation.disk.metricTtl).toBe(45_000)
    expect(configuration.allocation.tags.tags).toEqual({ region: 'eu' })
    expect(configuration.allocation.allocateBy).toEqual(['tag:region', 'freespace'])
    // Sections 1.x's file did not have keep pinraft's defaults.
    expect(configuration.allocation.pinqueue.weightBucketSize).toBe(100_000)
    expect(configuration.raft.dataFolder).toBe(join(folder, 'raft'))
    expect(await readFile(join(folder, 'peerstore'), 'utf8')).toContain(member)
    const written = JSON.parse(await readFile(join(folder, 'identity.json'), 'utf8'))
    expect(written.id).toBe(identity.peerId)
  })
})
