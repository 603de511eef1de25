import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadIdentity } from '../src/config/identity.ts'
import { initializeFolder } from '../src/config/initialize.ts'
import { loadServiceConfiguration } from '../src/config/service-configuration.ts'
import { lockFolder } from '../src/daemon/lock-file.ts'

let folder: string

beforeEach(async () => {
  folder = join(await mkdtemp(join(tmpdir(), 'pinraft-config-')), 'peer')
})

afterEach(async () => {
  await rm(join(folder, '..'), { recursive: true, force: true })
})

async function editService(
  edit: (json: Record<string, Record<string, unknown>>) => void,
): Promise<void> {
  const path = join(folder, 'service.json')
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, unknown>>
  edit(json)
  await writeFile(path, JSON.stringify(json))
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

describe('pinraft init', () => {
  it('writes service.json with every section at its defaults and no peers/bootstrap keys, and an identity', async () => {
    const result = await initializeFolder({ folder, peers: [], force: false })
    const json = JSON.parse(await readFile(join(folder, 'service.json'), 'utf8'))
    expect(Object.keys(json)).toEqual([
      'cluster',
      'consensus',
      'api',
      'ipfs_connector',
      'pin_tracker',
      'informer',
      'monitor',
      'allocator',
    ])
    // 1.x's defaults for the informers, the monitor and the allocator.
    expect(json.cluster.monitor_ping_interval).toBe('15s')
    expect(json.cluster.disable_repinning).toBe(true)
    expect(json.informer).toEqual({
      disk: { metric_ttl: '30s', metric_type: 'freespace' },
      numpin: { metric_ttl: '10s' },
      pinqueue: { metric_ttl: '30s', weight_bucket_size: 100_000 },
      tags: { metric_ttl: '30s', tags: { group: 'default' } },
    })
    expect(json.monitor).toEqual({ pubsubmon: { check_interval: '15s', failure_threshold: 3 } })
    expect(json.allocator).toEqual({ balanced: { allocate_by: ['tag:group', 'freespace'] } })
    expect(json.cluster.secret).toMatch(/^[0-9a-f]{64}$/)
    expect(json.cluster.listen_multiaddress).toEqual(['/ip4/0.0.0.0/tcp/9096'])
    expect(json.cluster).not.toHaveProperty('peers')
    expect(json.cluster).not.toHaveProperty('bootstrap')
    expect(json.consensus.raft.heartbeat_timeout).toBe('1s')
    expect(json.api.restapi.http_listen_multiaddress).toBe('/ip4/127.0.0.1/tcp/9094')
    expect((await loadIdentity(folder)).peerId).toBe(result.peerId)
    const configuration = await loadServiceConfiguration(folder, {})
    expect(configuration.raft.dataFolder).toBe(join(folder, 'raft'))
    expect(configuration.api.listen).toEqual({ host: '127.0.0.1', port: 9094 })
    expect(configuration.allocation.monitor).toEqual({ checkInterval: 15_000, failureThreshold: 3 })
  })

  it('reads the informer, monitor and allocator keys from the environment and refuses bad ones', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const configuration = await loadServiceConfiguration(folder, {
      PINRAFT_CLUSTER_MONITOR_PING_INTERVAL: '2s',
      PINRAFT_CLUSTER_DISABLE_REPINNING: 'false',
      PINRAFT_INFORMER_TAGS_TAGS: '{"group":"eu"}',
      PINRAFT_MONITOR_PUBSUBMON_CHECK_INTERVAL: '1s',
      PINRAFT_ALLOCATOR_BALANCED_ALLOCATE_BY: 'tag:group,numpin',
      PINRAFT_INFORMER_DISK_METRIC_TYPE: 'reposize',
    })
    expect(configuration.cluster.monitorPingInterval).toBe(2000)
    expect(configuration.cluster.disableRepinning).toBe(false)
    expect(configuration.allocation.tags.tags).toEqual({ group: 'eu' })
    expect(configuration.allocation.monitor.checkInterval).toBe(1000)
    expect(configuration.allocation.allocateBy).toEqual(['tag:group', 'numpin'])
    expect(configuration.allocation.disk.metricType).toBe('reposize')
    const badType = await failure(
      loadServiceConfiguration(folder, { PINRAFT_INFORMER_DISK_METRIC_TYPE: 'bytes' }),
    )
    expect(badType.message).toContain('informer.disk.metric_type must be "freespace" or "reposize"')
    const badPing = await failure(
      loadServiceConfiguration(folder, { PINRAFT_CLUSTER_MONITOR_PING_INTERVAL: '0s' }),
    )
    expect(badPing.message).toContain('cluster.monitor_ping_interval must be longer than 0s')
    const badKey = await failure(
      loadServiceConfiguration(folder, { PINRAFT_ALLOCATOR_BALANCED_STRATEGY: 'x' }),
    )
    expect(badKey.message).toContain('PINRAFT_ALLOCATOR_BALANCED_ALLOCATE_BY')
  })

  it('uses the given secret and writes the peerstore from --peers', async () => {
    const secret = 'ab'.repeat(32)
    const peer = '/ip4/192.0.2.1/tcp/9096/p2p/12D3KooWKpZ6rmigVwofCrY7TMg3vSi19KDr2fHPLmJDhhcMnv1L'
    const result = await initializeFolder({ folder, peers: [peer], force: false, secret })
    expect(result.generatedSecret).toBe(false)
    expect((await loadServiceConfiguration(folder, {})).cluster.secret).toBe(secret)
    expect(await readFile(join(folder, 'peerstore'), 'utf8')).toContain(peer)
  })

  it('refuses to overwrite without --force and keeps the old identity', async () => {
    const first = await initializeFolder({ folder, peers: [], force: false })
    const error = await failure(initializeFolder({ folder, peers: [], force: false }))
    expect(error.name).toBe('ConfigurationExistsError')
    expect(error.message).toContain('--force')
    expect((await loadIdentity(folder)).peerId).toBe(first.peerId)
    const second = await initializeFolder({ folder, peers: [], force: true })
    expect(second.peerId).not.toBe(first.peerId)
  })

  it('refuses a bad --peers address or secret before writing anything', async () => {
    expect(
      (await failure(initializeFolder({ folder, peers: ['/ip4/1.2.3.4/tcp/1'], force: false })))
        .name,
    ).toBe('UsageError')
    expect(
      (await failure(initializeFolder({ folder, peers: [], force: false, secret: 'short' }))).name,
    ).toBe('ConfigurationError')
    expect((await failure(loadServiceConfiguration(folder, {}))).name).toBe(
      'ConfigurationMissingError',
    )
  })
})

describe('service.json', () => {
  beforeEach(async () => {
    await initializeFolder({ folder, peers: [], force: false })
  })

  it('refuses the old peers and bootstrap keys loudly, listing the addresses to move', async () => {
    const address =
      '/ip4/192.0.2.9/tcp/9096/p2p/12D3KooWKpZ6rmigVwofCrY7TMg3vSi19KDr2fHPLmJDhhcMnv1L'
    await editService((json) => {
      json.cluster!.peers = [address]
      json.cluster!.bootstrap = []
    })
    const error = await failure(loadServiceConfiguration(folder, {}))
    expect(error.name).toBe('OldConfigurationKeysError')
    expect(error.message).toContain('cluster.peers, cluster.bootstrap')
    expect(error.message).toContain(address)
    expect(error.message).toContain(join(folder, 'peerstore'))
    expect(error.message).toContain('--bootstrap')
  })

  it('applies PINRAFT_<SECTION>_<KEY> overrides without writing the file', async () => {
    const before = await readFile(join(folder, 'service.json'), 'utf8')
    const configuration = await loadServiceConfiguration(folder, {
      PINRAFT_CLUSTER_PEERNAME: 'from-env',
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2',
      PINRAFT_CONSENSUS_RAFT_HEARTBEAT_TIMEOUT: '2s',
      PINRAFT_CONSENSUS_RAFT_LEAVE_ON_SHUTDOWN: 'true',
      PINRAFT_API_RESTAPI_BASIC_AUTH_CREDENTIALS: '{"admin":"pw"}',
    })
    expect(configuration.cluster.peername).toBe('from-env')
    expect(configuration.cluster.listenMultiaddresses).toEqual([
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/127.0.0.1/tcp/2',
    ])
    expect(configuration.raft.heartbeatTimeout).toBe(2000)
    expect(configuration.raft.leaveOnShutdown).toBe(true)
    expect(configuration.api.basicAuthCredentials).toEqual({ admin: 'pw' })
    expect(configuration.environmentOverrides).toHaveLength(5)
    expect(await readFile(join(folder, 'service.json'), 'utf8')).toBe(before)
  })

  it('refuses an override that names no key or does not parse, naming the variable', async () => {
    const unknown = await failure(
      loadServiceConfiguration(folder, { PINRAFT_CLUSTER_PEERNAM: 'x' }),
    )
    expect(unknown.name).toBe('InvalidEnvironmentError')
    expect(unknown.message).toContain('PINRAFT_CLUSTER_PEERNAME')
    const malformed = await failure(
      loadServiceConfiguration(folder, { PINRAFT_CONSENSUS_RAFT_COMMIT_RETRIES: 'many' }),
    )
    expect(malformed.message).toContain('PINRAFT_CONSENSUS_RAFT_COMMIT_RETRIES must be a number')
  })

  it.each([
    [
      (json: Record<string, Record<string, unknown>>) => (json.cluster!.secret = 'xyz'),
      'cluster.secret',
    ],
    [(json: Record<string, Record<string, unknown>>) => (json.cluster!.typo = 1), 'cluster.typo'],
    [
      (json: Record<string, Record<string, unknown>>) =>
        (json.cluster!.listen_multiaddress = ['/ip4/1.2.3.4']),
      'cluster.listen_multiaddress',
    ],
    [
      (json: Record<string, Record<string, unknown>>) =>
        ((json.api!.restapi as Record<string, unknown>).ssl_cert_file = 'cert.pem'),
      'api.restapi.ssl_cert_file',
    ],
    [
      (json: Record<string, Record<string, unknown>>) =>
        ((json.consensus!.raft as Record<string, unknown>).heartbeat_timeout = 'soon'),
      'heartbeat_timeout',
    ],
  ])('refuses an invalid value, naming the key (%#)', async (edit, key) => {
    await editService(edit)
    const error = await failure(loadServiceConfiguration(folder, {}))
    expect([
      'ConfigurationError',
      'InvalidConfigurationError',
      'UnknownConfigurationKeysError',
    ]).toContain(error.name)
    expect(error.message).toContain(key)
  })
})

describe('the folder lock', () => {
  it('keeps a second holder out while the first holds it, and is free again after release', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const lock = await lockFolder(folder, 'start the daemon')
    await writeFile(lock.path, `${process.ppid}\n`)
    const error = await failure(lockFolder(folder, 'start the daemon'))
    expect(error.name).toBe('FolderLockedError')
    expect(error.message).toContain(`pid ${process.ppid}`)
    await lock.release()
    const again = await lockFolder(folder, 'start the daemon')
    await again.release()
  })

  it('takes over a lock left by a process that no longer runs', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    // PIDs are below 2^22 on Linux: this one cannot be running.
    await writeFile(join(folder, 'daemon.lock'), '99999999\n')
    const lock = await lockFolder(folder, 'start the daemon')
    expect(await readFile(lock.path, 'utf8')).toBe(`${process.pid}\n`)
    await lock.release()
  })
})
