import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DaemonProcess,
  freePort,
  runPinraft,
  spawnDaemon,
  waitFor,
} from './support/processes.ts'

/**
 * Allocation end to end: four `pinraft daemon` processes with embedded IPFS nodes on 127.0.0.1,
 * two tag groups (alpha and beta "eu", gamma and delta "us") and storage maxima of 1, 2, 3 and 4
 * GB, so the freest peer of each group is beta and delta. Pings every second, checked every
 * second, so a lost peer raises an alert within about 2 × monitor_ping_interval + check_interval.
 * One cluster serves every case, in order.
 */

interface Peer {
  readonly name: string
  readonly folder: string
  readonly environment: NodeJS.ProcessEnv
  readonly api: string
  readonly clusterPort: number
  peerId: string
  daemon?: DaemonProcess
}

interface PinJson {
  cid: string
  allocations: string[]
  replication_factor_min: number
  replication_factor_max: number
  name: string
}

interface GlobalJson {
  peer_map: Record<string, { peername: string; status: string }>
}

const secret = randomBytes(32).toString('hex')
let root: string
const peers: Peer[] = []
const groups = ['eu', 'eu', 'us', 'us']
/** The re-allocation bound this test states: 2 × ping interval + check interval + commit, with room for a loaded machine. */
const reallocationBound = 20_000
const measured: Record<string, number> = {}

function multihashOf(cid: string): string {
  return Buffer.from(CID.parse(cid).multihash.bytes).toString('hex')
}

function byName(name: string): Peer {
  return peers.find((peer) => peer.name === name)!
}

function nameOf(peerId: string): string {
  return peers.find((peer) => peer.peerId === peerId)?.name ?? peerId
}

/** Rethrows a failure with the tail of `peer`'s log, which says what the daemon did. */
async function withLog<T>(peer: Peer, promise: Promise<T>): Promise<T> {
  return promise.catch((error: Error) => {
    throw new Error(`${error.message}\n${peer.name}'s log:\n${peer.daemon?.output().slice(-4000)}`)
  })
}

function start(peer: Peer, extra: string[] = []): void {
  peer.daemon = spawnDaemon(['--config', peer.folder, 'daemon', ...extra], peer.environment)
}

async function ready(peer: Peer): Promise<void> {
  await waitFor(
    `${peer.name} to be ready`,
    async () => {
      const response = await fetch(`${peer.api}/health/ready`).catch(() => null)
      return response?.status === 204 ? true : undefined
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${peer.daemon?.output().slice(-3000)}`)
  })
}

async function call(peer: Peer, method: string, path: string, body?: FormData): Promise<Response> {
  return fetch(`${peer.api}${path}`, { method, ...(body === undefined ? {} : { body }) })
}

/** Content stored in `peer`'s IPFS node and not pinned (`/add?no-pin=true`): its CID. */
async function content(peer: Peer, text: string): Promise<string> {
  const form = new FormData()
  form.append('file', new File([`${text} ${randomBytes(8).toString('hex')}`], 'file.txt'))
  const response = await call(peer, 'POST', '/add?no-pin=true&cid-version=1', form)
  expect(response.status, await response.clone().text()).toBe(200)
  const lines = (await response.text()).trim().split('\n')
  return (JSON.parse(lines.at(-1)!) as { cid: string }).cid
}

/**
 * The pin's allocations as `peer` reads them, linearizably: a peer other than the one that took
 * the pin learns the commit with the leader's next message (or after commit_timeout), as in
 * IPFS Cluster, so a local read there could come a few milliseconds early.
 */
async function allocations(peer: Peer, cid: string): Promise<string[] | null> {
  const response = await call(peer, 'GET', `/allocations/${cid}?consistent=true`)
  if (response.status === 404) return null
  return ((await response.json()) as PinJson).allocations.map(nameOf).sort()
}

async function statuses(peer: Peer, cid: string): Promise<Record<string, string>> {
  const response = await call(peer, 'GET', `/pins/${cid}`)
  const global = (await response.json()) as GlobalJson
  return Object.fromEntries(
    Object.entries(global.peer_map).map(([id, entry]) => [nameOf(id), entry.status]),
  )
}

/** Waits until `peer` reports these statuses for `cid` (others may be anything), bounded. */
async function statusesReach(
  peer: Peer,
  cid: string,
  wanted: Record<string, string>,
  timeout = 60_000,
): Promise<Record<string, string>> {
  return waitFor(
    `${cid} to be ${JSON.stringify(wanted)}`,
    async () => {
      const current = await statuses(peer, cid)
      return Object.entries(wanted).every(([name, status]) => current[name] === status)
        ? current
        : undefined
    },
    timeout,
    250,
  )
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-allocation-e2e-'))
  for (const [index, name] of ['alpha', 'beta', 'gamma', 'delta'].entries()) {
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const folder = join(root, name)
    const environment: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: root,
      PINRAFT_SECRET: secret,
      PINRAFT_CLUSTER_PEERNAME: name,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_CONNECT_SWARMS_DELAY: '0s',
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_STORAGE_MAX: `${index + 1}GB`,
      PINRAFT_CONSENSUS_RAFT_HEARTBEAT_TIMEOUT: '300ms',
      PINRAFT_CONSENSUS_RAFT_ELECTION_TIMEOUT: '300ms',
      PINRAFT_CONSENSUS_RAFT_LEADER_LEASE_TIMEOUT: '150ms',
      PINRAFT_CONSENSUS_RAFT_NETWORK_TIMEOUT: '3s',
      PINRAFT_CLUSTER_MONITOR_PING_INTERVAL: '1s',
      PINRAFT_CLUSTER_DISABLE_REPINNING: 'false',
      PINRAFT_CLUSTER_STATE_SYNC_INTERVAL: '2s',
      PINRAFT_MONITOR_PUBSUBMON_CHECK_INTERVAL: '1s',
      PINRAFT_INFORMER_DISK_METRIC_TTL: '3s',
      PINRAFT_INFORMER_TAGS_METRIC_TTL: '3s',
      PINRAFT_INFORMER_TAGS_TAGS: JSON.stringify({ group: groups[index] }),
    }
    const init = await runPinraft(['--config', folder, 'init'], environment)
    expect(init.code, init.stderr).toBe(0)
    const identity = JSON.parse(await readFile(join(folder, 'identity.json'), 'utf8')) as {
      id: string
    }
    peers.push({
      name,
      folder,
      environment,
      clusterPort,
      peerId: identity.id,
      api: `http://127.0.0.1:${apiPort}`,
    })
  }
  const [first, ...others] = peers as [Peer, ...Peer[]]
  start(first)
  await ready(first)
  for (const peer of others) {
    start(peer, ['--bootstrap', `/ip4/127.0.0.1/tcp/${first.clusterPort}/p2p/${first.peerId}`])
    await ready(peer)
  }
  // alpha knows every peer's metrics once a pin with replication 4 can be placed (a refused
  // placement commits nothing, so asking again is harmless).
  const probe = await content(first, 'probe')
  await waitFor(
    "every peer's metrics on alpha",
    async () =>
      (await call(first, 'POST', `/pins/${probe}?replication=4`)).status === 200 ? true : undefined,
    30_000,
    250,
  )
  expect((await call(first, 'DELETE', `/pins/${probe}`)).status).toBe(200)
}, 180_000)

afterAll(async () => {
  for (const peer of peers) {
    if (peer.daemon === undefined) continue
    peer.daemon.child.kill('SIGKILL')
    await peer.daemon.exited
  }
  if (root !== undefined) await rm(root, { recursive: true, force: true })
  if (Object.keys(measured).length > 0) console.info('allocation e2e timings (ms):', measured)
})

describe('allocation across four pinraft daemons', () => {
  let placed = ''
  let updated = ''

  it('places replication 2 once in each tag group, on the freest peer of each, pinned there and remote elsewhere', async () => {
    const alpha = byName('alpha')
    placed = await content(alpha, 'placed')
    const response = await call(
      alpha,
      'POST',
      `/pins/${placed}?replication-min=2&replication-max=2&name=placed`,
    )
    expect(response.status, await response.clone().text()).toBe(200)
    const pin = (await response.json()) as PinJson
    expect(pin.allocations.map(nameOf).sort()).toEqual(['beta', 'delta'])
    expect(await allocations(byName('gamma'), placed)).toEqual(['beta', 'delta'])
    expect(
      await statusesReach(byName('gamma'), placed, {
        alpha: 'remote',
        beta: 'pinned',
        gamma: 'remote',
        delta: 'pinned',
      }),
    ).toEqual({ alpha: 'remote', beta: 'pinned', gamma: 'remote', delta: 'pinned' })
  }, 90_000)

  it('refuses replication-min above the peers available with 1.x’s error, committing nothing', async () => {
    const alpha = byName('alpha')
    const cid = await content(alpha, 'too many')
    const response = await call(alpha, 'POST', `/pins/${cid}?replication-min=5&replication-max=5`)
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({
      code: 500,
      message:
        'not enough peers to allocate CID. Needed at least: 5. Wanted at most: 5. Available candidates: 4. See logs for more info.',
    })
    expect(await allocations(alpha, cid)).toBeNull()
  })

  it('pins an update with the old pin’s allocations and options, keeping the old pin', async () => {
    const alpha = byName('alpha')
    updated = await content(alpha, 'updated')
    const response = await call(alpha, 'POST', `/pins/${updated}?pin-update=${placed}`)
    expect(response.status, await response.clone().text()).toBe(200)
    const pin = (await response.json()) as PinJson
    expect(pin.name).toBe('placed')
    expect(pin.replication_factor_max).toBe(2)
    expect(pin.allocations.map(nameOf).sort()).toEqual(['beta', 'delta'])
    expect(await allocations(alpha, placed)).toEqual(['beta', 'delta'])
    await statusesReach(alpha, updated, { beta: 'pinned', delta: 'pinned', alpha: 'remote' })
    const missing = await call(
      alpha,
      'POST',
      `/pins/${updated}?pin-update=${await content(alpha, 'never pinned')}`,
    )
    expect(missing.status).toBe(404)
  }, 90_000)

  it('removes an expired pin from the pinset', async () => {
    const alpha = byName('alpha')
    const cid = await content(alpha, 'expiring')
    const response = await call(alpha, 'POST', `/pins/${cid}?expire-in=2s`)
    expect(response.status).toBe(200)
    const started = Date.now()
    await waitFor(
      'the expired pin to leave the pinset',
      async () => ((await allocations(byName('beta'), cid)) === null ? true : undefined),
      30_000,
      250,
    )
    measured.expiredPinGone = Date.now() - started
  }, 60_000)

  it('pins content only a node outside the cluster has, through the pin’s origins', async () => {
    // A one-peer cluster of its own (another secret): its IPFS node is no swarm peer of the
    // four, and routing is off, so the content can only come through the origin's address.
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const outsider: Peer = {
      name: 'outsider',
      folder: join(root, 'outsider'),
      environment: {
        ...byName('alpha').environment,
        PINRAFT_SECRET: randomBytes(32).toString('hex'),
        PINRAFT_CLUSTER_PEERNAME: 'outsider',
        PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
        PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
      },
      clusterPort,
      peerId: '',
      api: `http://127.0.0.1:${apiPort}`,
    }
    const init = await runPinraft(['--config', outsider.folder, 'init'], outsider.environment)
    expect(init.code, init.stderr).toBe(0)
    start(outsider)
    try {
      await ready(outsider)
      const cid = await content(outsider, 'from an origin')
      const id = (await (await call(outsider, 'GET', '/id')).json()) as {
        ipfs: { id: string; addresses: string[] }
      }
      const origin = id.ipfs.addresses
        .map((address) => (address.includes('/p2p/') ? address : `${address}/p2p/${id.ipfs.id}`))
        .find((address) => address.startsWith('/ip4/127.0.0.1/'))
      expect(origin, JSON.stringify(id.ipfs)).toBeDefined()
      const alpha = byName('alpha')
      const response = await call(
        alpha,
        'POST',
        `/pins/${cid}?replication=1&origins=${encodeURIComponent(origin!)}`,
      )
      expect(response.status, await response.clone().text()).toBe(200)
      const pin = (await response.json()) as PinJson & { origins: string[] }
      expect(pin.origins).toEqual([origin])
      const [holder] = pin.allocations.map(nameOf)
      expect(holder).toBeDefined()
      await statusesReach(alpha, cid, { [holder!]: 'pinned' }, 60_000)
    } finally {
      outsider.daemon?.child.kill('SIGKILL')
      await outsider.daemon?.exited
    }
  }, 120_000)

  it('reports the Raft and monitor traffic of the cluster host per protocol (GET /health/bandwidth)', async () => {
    const response = await call(byName('alpha'), 'GET', '/health/bandwidth')
    expect(response.status).toBe(200)
    const bandwidth = (await response.json()) as Record<
      string,
      { total_in: number; total_out: number; rate_in: number; rate_out: number }
    >
    const monitor = Object.entries(bandwidth).find(([protocol]) => protocol.includes('monitor'))
    expect(monitor, JSON.stringify(bandwidth)).toBeDefined()
    expect(monitor![1].total_out).toBeGreaterThan(0)
    const raft = Object.entries(bandwidth).filter(([protocol]) => protocol.includes('raft'))
    expect(
      raft.reduce((sum, [, entry]) => sum + entry.total_in + entry.total_out, 0),
    ).toBeGreaterThan(0)
  })

  it('re-allocates the pins of a killed peer and pins them elsewhere within the bound', async () => {
    const delta = byName('delta')
    const alpha = byName('alpha')
    delta.daemon!.child.kill('SIGKILL')
    await delta.daemon!.exited
    const killed = Date.now()
    await withLog(
      alpha,
      waitFor(
        "delta's pins to be re-allocated",
        async () => {
          const [first, second] = [
            await allocations(alpha, placed),
            await allocations(alpha, updated),
          ]
          return first?.includes('gamma') === true && second?.includes('gamma') === true
            ? true
            : undefined
        },
        reallocationBound,
        100,
      ),
    )
    measured.reallocatedAfterKill = Date.now() - killed
    // The us group's other peer takes delta's place; eu keeps beta.
    expect(await allocations(alpha, placed)).toEqual(['beta', 'gamma'])
    await statusesReach(alpha, placed, { beta: 'pinned', gamma: 'pinned' })
    await statusesReach(alpha, updated, { beta: 'pinned', gamma: 'pinned' })
    measured.pinnedElsewhereAfterKill = Date.now() - killed
  }, 90_000)

  it('does not pin beyond max when the killed peer comes back: its node unpins the moved pins', async () => {
    const delta = byName('delta')
    start(delta)
    await ready(delta)
    const alpha = byName('alpha')
    await statusesReach(alpha, placed, { delta: 'remote', beta: 'pinned', gamma: 'pinned' })
    expect(await allocations(delta, placed)).toEqual(['beta', 'gamma'])
    // Garbage collection on delta's node removes the blocks only once nothing pins them.
    const removed = await waitFor(
      "delta's node to unpin what moved away",
      async () => {
        const response = await call(delta, 'POST', '/ipfs/gc?local=true')
        const body = (await response.json()) as {
          peer_map: Record<string, { keys?: { key: string | null }[] | null }>
        }
        const keys = Object.values(body.peer_map).flatMap((entry) => entry.keys ?? [])
        // GC names blocks by multihash (CIDv0), as Kubo does: compare multihashes.
        const hashes = new Set(
          keys.map((entry) => (entry.key === null ? '' : multihashOf(entry.key))),
        )
        return hashes.has(multihashOf(placed)) ? hashes : undefined
      },
      30_000,
      500,
    )
    expect(removed.has(multihashOf(placed))).toBe(true)
  }, 120_000)

  it('moves the pins of a peer removed with DELETE /peers/{id} before removing it', async () => {
    const alpha = byName('alpha')
    const gamma = byName('gamma')
    const response = await call(alpha, 'DELETE', `/peers/${gamma.peerId}`)
    expect(response.status, await response.clone().text()).toBe(204)
    const after = await allocations(alpha, placed)
    expect(after).not.toContain('gamma')
    expect(after).toHaveLength(2)
    expect(after).toContain('beta')
    const members = (await (await call(alpha, 'GET', '/id')).json()) as { cluster_peers: string[] }
    expect(members.cluster_peers).not.toContain(gamma.peerId)
    // gamma stops itself once it sees its removal.
    expect(await gamma.daemon!.exited).toBe(0)
    gamma.daemon = undefined
  }, 90_000)
})
