import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cidFor,
  clusterAddress,
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startPeer,
  stopPeer,
  type TestPeer,
  waitFor,
  waitPeerReady,
} from './support/processes.ts'

/**
 * Three real `pinraft daemon` processes on 127.0.0.1, from fresh `pinraft init` folders: one
 * starts the cluster, two join it with --bootstrap; then pins through a follower, the leader is
 * SIGKILLed and restarted, the state is exported and re-imported, and a peer is removed. The
 * steps build on each other, so the tests run in order.
 */

type Peer = TestPeer

let root = ''
let peers: Peer[] = []
/** Every pin a peer acknowledged (200), by CID. */
const acknowledged = new Set<string>()
let nextCid = 0

const address = clusterAddress
const start = startPeer

async function metric(peer: Peer, name: string): Promise<number | undefined> {
  const text = await peer.client.metrics()
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

const waitReady = (peer: Peer) => waitPeerReady(peer, 20_000)
const stop = (peer: Peer, signal: NodeJS.Signals) => stopPeer(peer, signal, 15_000)

async function leaderOf(candidates: Peer[]): Promise<Peer> {
  return waitFor(
    'a leader',
    async () => {
      for (const peer of candidates) {
        if ((await metric(peer, 'pinraft_raft_leader').catch(() => 0)) === 1) return peer
      }
      return undefined
    },
    15_000,
  )
}

/** Pins a new CID through `peer`, retrying (bounded) while the cluster has no leader. */
async function pinThrough(peer: Peer): Promise<string> {
  const cid = await cidFor(nextCid++)
  await waitFor(
    `pin ${cid} through ${peer.name}`,
    async () => {
      await peer.client.pin(cid, { name: `pin ${nextCid}` })
      return true
    },
    15_000,
    200,
  )
  acknowledged.add(cid)
  return cid
}

async function pinsOn(peer: Peer): Promise<Set<string>> {
  return new Set((await peer.client.allocations()).map((pin) => pin.cid))
}

async function diagnostics(): Promise<string> {
  const parts: string[] = []
  for (const peer of peers) {
    const metrics = await peer.client.metrics().catch((error: Error) => error.message)
    const pins = await pinsOn(peer).catch(() => new Set<string>())
    parts.push(
      `--- ${peer.name} (${peer.peerId}): ${pins.size} pins, missing ${[...acknowledged].filter((cid) => !pins.has(cid)).length}`,
      metrics
        .split('\n')
        .filter((line) => line.startsWith('pinraft_') && !line.includes('latency'))
        .join(' '),
      peer.daemon?.output().slice(-3000) ?? '(not running)',
    )
  }
  return parts.join('\n')
}

async function expectAllPinsEverywhere(on: Peer[]): Promise<void> {
  for (const peer of on) {
    try {
      await waitFor(
        `every acknowledged pin on ${peer.name}`,
        async () => {
          const pins = await pinsOn(peer)
          return [...acknowledged].every((cid) => pins.has(cid)) ? true : undefined
        },
        15_000,
      )
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await diagnostics()}`)
    }
  }
}

beforeAll(async () => {
  const cluster = await initTestCluster('pinraft-e2e-', { clientTimeout: 10_000 })
  root = cluster.root
  peers = cluster.peers
}, 60_000)

afterAll(async () => {
  await removeTestCluster(root, peers)
})

describe('a three-peer cluster of pinraft daemons', { timeout: 45_000 }, () => {
  it('starts a cluster on one peer and bootstraps the other two into it', async () => {
    const [alpha, beta, gamma] = peers as [Peer, Peer, Peer]
    start(alpha)
    await waitReady(alpha)
    start(beta, ['--bootstrap', address(alpha)])
    await waitReady(beta)
    start(gamma, ['--bootstrap', address(alpha)])
    await waitReady(gamma)
    for (const peer of peers) {
      const ids = await peer.client.peers()
      expect(ids.map((id) => id.id).sort()).toEqual(peers.map((each) => each.peerId).sort())
      expect(
        ids.filter((id) => id.error !== '').map((id) => `${peer.name} -> ${id.id}: ${id.error}`),
      ).toEqual([])
      // Remote entries as complete as the local one: each knows the addresses of the others.
      for (const id of ids) expect(id.cluster_peers_addresses.length, id.id).toBeGreaterThan(0)
    }
  })

  it('pins through a follower, and every peer gets the pin', async () => {
    const leader = await leaderOf(peers)
    const follower = peers.find((peer) => peer !== leader)!
    // Once through the CLI, as an operator would.
    const cid = await cidFor(nextCid++)
    const cli = await runPinraft(
      [
        'pin',
        'add',
        cid,
        '--name',
        'from the cli',
        '--host',
        `/ip4/127.0.0.1/tcp/${follower.apiPort}`,
        '--enc',
        'json',
      ],
      follower.environment,
    )
    expect(cli.code, cli.stderr).toBe(0)
    expect(JSON.parse(cli.stdout)).toMatchObject({ cid, name: 'from the cli' })
    acknowledged.add(cid)
    for (let count = 0; count < 4; count++) await pinThrough(follower)
    await expectAllPinsEverywhere(peers)
  })

  it('keeps every acknowledged pin when the leader is SIGKILLed and restarted', async () => {
    const leader = await leaderOf(peers)
    expect(await stop(leader, 'SIGKILL')).not.toBe(0)
    const survivors = peers.filter((peer) => peer !== leader)
    for (let count = 0; count < 5; count++) await pinThrough(survivors[count % 2]!)
    start(leader)
    await waitReady(leader)
    await pinThrough(leader)
    await expectAllPinsEverywhere(peers)
  })

  it('exports the state, and a re-import of it on every stopped peer restores the same pinset', async () => {
    for (const peer of peers) expect(await stop(peer, 'SIGTERM')).toBe(0)
    const exportFile = join(root, 'export.json')
    const exported = await runPinraft(
      ['--config', peers[0]!.folder, 'state', 'export', '--file', exportFile],
      peers[0]!.environment,
    )
    expect(exported.code, exported.stderr).toBe(0)
    const lines = (await readFile(exportFile, 'utf8')).trim().split('\n')
    expect(new Set(lines.map((line) => (JSON.parse(line) as { cid: string }).cid))).toEqual(
      acknowledged,
    )
    for (const peer of peers) {
      const imported = await runPinraft(
        ['--config', peer.folder, 'state', 'import', exportFile, '--force'],
        peer.environment,
      )
      expect(imported.code, imported.stderr).toBe(0)
    }
    for (const peer of peers) start(peer)
    for (const peer of peers) await waitReady(peer)
    for (const peer of peers) expect(await pinsOn(peer)).toEqual(acknowledged)
    await pinThrough(peers[1]!)
    await expectAllPinsEverywhere(peers)
  })

  it('removes a peer: it leaves the peerset and its daemon stops', async () => {
    const [alpha, , gamma] = peers as [Peer, Peer, Peer]
    const removed = await runPinraft(
      ['peers', 'rm', gamma.peerId, '--host', `/ip4/127.0.0.1/tcp/${alpha.apiPort}`],
      alpha.environment,
    )
    expect(removed.code, removed.stderr).toBe(0)
    const remaining = [peers[0]!, peers[1]!].map((peer) => peer.peerId).sort()
    await waitFor(
      'the peerset without gamma',
      async () => {
        const ids = (await alpha.client.peers()).map((id) => id.id).sort()
        return JSON.stringify(ids) === JSON.stringify(remaining) ? true : undefined
      },
      10_000,
    )
    const code = await Promise.race([
      gamma.daemon!.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000)),
    ])
    expect(code).toBe(0)
    gamma.daemon = undefined
    await pinThrough(alpha)
  })
})
