import { randomBytes } from 'node:crypto'
import { CarWriter } from '@ipld/car/writer'
import * as Cluster from '@nftstorage/ipfs-cluster'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startTestCluster,
  type TestPeer,
  waitFor,
} from './support/processes.ts'

/**
 * A published IPFS Cluster client, @nftstorage/ipfs-cluster (the JS client of the REST API),
 * against three `pinraft daemon` processes on 127.0.0.1, unchanged: what it sends is what
 * IPFS Cluster 1.x takes, and it must understand every answer.
 */

interface Peer extends TestPeer {
  /** The published client's configuration for this peer's API. */
  readonly config: { url: URL }
}

let root = ''
let peers: Peer[] = []
let added = ''

/** The client's status of `cid` from `peer`, once every peer reports `status` (bounded). */
async function statusEverywhere(peer: Peer, cid: string, status: string) {
  return await waitFor(
    `${cid} ${status} on every peer`,
    async () => {
      const answer = await Cluster.status(peer.config, cid)
      const entries = Object.values(answer.peerMap ?? {})
      return entries.length === 3 && entries.every((entry) => entry.status === status)
        ? answer
        : undefined
    },
    60_000,
  )
}

beforeAll(async () => {
  const cluster = await initTestCluster('pinraft-client-e2e-', {
    // Metrics within a second of start, so that pins can be allocated soon.
    environment: () => ({
      PINRAFT_CLUSTER_MONITOR_PING_INTERVAL: '1s',
      PINRAFT_MONITOR_PUBSUBMON_CHECK_INTERVAL: '1s',
      PINRAFT_INFORMER_DISK_METRIC_TTL: '5s',
    }),
  })
  root = cluster.root
  peers = cluster.peers.map((peer) =>
    Object.assign(peer, { config: { url: new URL(`http://127.0.0.1:${peer.apiPort}/`) } }),
  )
  await startTestCluster(peers)
}, 120_000)

afterAll(async () => {
  await removeTestCluster(root, peers)
})

describe('@nftstorage/ipfs-cluster against three pinraft peers', () => {
  it('reads the version and the peer it asks', async () => {
    const beta = peers[1] as Peer
    expect(await Cluster.version(beta.config)).toMatch(/\d+\.\d+\.\d+/)
    const info = await Cluster.info(beta.config)
    expect(info.id).toBe(beta.peerId)
    expect(info.peerName).toBe('beta')
    expect(info.clusterPeers).toHaveLength(3)
  })

  it('adds a file, and every peer pins it as status reports', async () => {
    const beta = peers[1] as Peer
    const bytes = randomBytes(1024 * 1024)
    const result = await Cluster.add(beta.config, new File([bytes], 'random.bin'), {
      name: 'random',
    })
    added = String(result.cid)
    // The client asks for CIDv1 with raw leaves: four 256 KiB leaves under a dag-pb root.
    expect(added).toMatch(/^bafybei/)
    expect(result.name).toBe('random.bin')
    expect(Number(result.size)).toBeGreaterThan(bytes.length)
    const status = await statusEverywhere(peers[2] as Peer, added, 'pinned')
    expect(status.cid).toBe(added)
    expect(status.name).toBe('random')
    expect(Object.keys(status.peerMap ?? {}).sort()).toEqual(peers.map((p) => p.peerId).sort())
  }, 90_000)

  it('adds a directory (wrapped) and a CAR, each pinned under the root it names', async () => {
    const beta = peers[1] as Peer
    const results = await Cluster.addDirectory(beta.config, [
      new File(['first\n'], 'a.txt'),
      new File(['second\n'], 'b.txt'),
    ])
    expect(results.map((entry) => entry.name).slice(0, 2)).toEqual(['a.txt', 'b.txt'])
    const wrapper = results.at(-1)
    expect(results).toHaveLength(3)
    await statusEverywhere(peers[0] as Peer, String(wrapper?.cid), 'pinned')

    const bytes = new TextEncoder().encode('a block in a CAR\n')
    const root = CID.createV1(raw.code, await sha256.digest(bytes))
    const { writer, out } = CarWriter.create([root])
    const parts: Uint8Array[] = []
    const collected = (async () => {
      for await (const part of out) parts.push(part)
    })()
    await writer.put({ cid: root, bytes })
    await writer.close()
    await collected
    const car = await Cluster.addCAR(beta.config, new Blob(parts), { name: 'car' })
    expect(String(car.cid)).toBe(root.toString())
    await statusEverywhere(peers[2] as Peer, root.toString(), 'pinned')
  }, 90_000)

  it('reads the allocation, pins with options, and recovers', async () => {
    expect(added).not.toBe('')
    const alpha = peers[0] as Peer
    const pin = await Cluster.pin(alpha.config, added, {
      name: 'renamed',
      metadata: { owner: 'ana' },
    })
    expect(pin.cid).toBe(added)
    const allocation = await Cluster.allocation(alpha.config, added)
    expect(allocation.cid).toBe(added)
    expect(allocation.name).toBe('renamed')
    expect(allocation.metadata).toEqual({ owner: 'ana' })
    expect(allocation.replicationFactorMin).toBe(-1)
    const recovered = await Cluster.recover(alpha.config, added)
    expect(recovered.cid).toBe(added)
    expect(Object.values(recovered.peerMap ?? {})).toHaveLength(3)
    const all = await Cluster.statusAll(alpha.config)
    expect(all.map((entry) => entry.cid)).toContain(added)
    const local = await Cluster.statusAll(alpha.config, { local: true })
    expect(Object.keys(local[0]?.peerMap ?? {})).toEqual([alpha.peerId])
  }, 60_000)

  it('lists the peers', async () => {
    const list = await Cluster.peerList(peers[0]!.config)
    expect(list.map((peer) => peer.id).sort()).toEqual(peers.map((p) => p.peerId).sort())
  })

  it("reads the monitor's metric names, and each peer's metrics by name (1.x's route)", async () => {
    const alpha = peers[0] as Peer
    const names = await waitFor(
      'the freespace and ping metrics of every peer',
      async () => {
        const list = await Cluster.metricNames(alpha.config)
        return list.includes('freespace') && list.includes('ping') ? list : undefined
      },
      30_000,
    )
    expect(names).toEqual([...names].sort())
    // The client (5.0.1) has no call for one metric's values: the route it would call.
    const freespace = await waitFor(
      'a freespace metric from every peer',
      async () => {
        const response = await fetch(new URL('monitor/metrics/freespace', alpha.config.url))
        const list = (await response.json()) as { peer: string; valid: boolean }[]
        return list.length === 3 ? list : undefined
      },
      30_000,
    )
    expect(freespace.map((metric) => metric.peer).sort()).toEqual(
      peers.map((peer) => peer.peerId).sort(),
    )
    expect(freespace.every((metric) => metric.valid)).toBe(true)
  }, 60_000)

  it('draws the cluster with `pinraft health graph`: three peers, each with its IPFS node', async () => {
    const beta = peers[1] as Peer
    const graph = (await (await fetch(new URL('health/graph', beta.config.url))).json()) as {
      cluster_id: string
      cluster_links: Record<string, string[]>
      cluster_to_ipfs: Record<string, string>
      id_to_peername: Record<string, string>
    }
    expect(graph.cluster_id).toBe(beta.peerId)
    const ids = peers.map((peer) => peer.peerId).sort()
    expect(Object.keys(graph.cluster_links).sort()).toEqual(ids)
    for (const peer of peers) {
      // Every peer is connected to the two others.
      expect([...graph.cluster_links[peer.peerId]!].sort()).toEqual(
        ids.filter((id) => id !== peer.peerId),
      )
      expect(graph.id_to_peername[peer.peerId]).toBe(peer.name)
    }
    expect(Object.keys(graph.cluster_to_ipfs).sort()).toEqual(ids)
    const drawn = await runPinraft(
      ['health', 'graph', '--host', beta.config.url.toString()],
      beta.environment,
    )
    expect(drawn.code, drawn.stderr).toBe(0)
    expect(drawn.stdout).toMatch(/^digraph cluster \{\n/)
    // This peer with a double border, the two others; their three IPFS nodes; six cluster links.
    expect(drawn.stdout.match(/^[CT]\d+ \[/gm)).toHaveLength(3)
    expect(drawn.stdout).toMatch(/peripheries="2"/)
    expect(drawn.stdout.match(/^I\d+ \[.*color="turquoise3"/gm)).toHaveLength(3)
    expect(drawn.stdout.match(/^[CT]\d+ -> [CT]\d+$/gm)).toHaveLength(6)
    expect(drawn.stdout.match(/^[CT]\d+ -> I\d+$/gm)).toHaveLength(3)
    const metrics = await runPinraft(
      ['health', 'metrics', 'freespace', '--host', beta.config.url.toString()],
      beta.environment,
    )
    expect(metrics.code, metrics.stderr).toBe(0)
    const lines = metrics.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    for (const line of lines)
      expect(line).toMatch(/^12D3KooW\w+ \| freespace: [\d.]+ [kMGTPE]?B \| Expires in: /)
  }, 60_000)

  it('pins with replication factors and user allocations: placed on that many peers, those first', async () => {
    expect(added).not.toBe('')
    const [alpha, , gamma] = peers as [Peer, Peer, Peer]
    const pin = await Cluster.pin(alpha.config, added, {
      name: 'two copies',
      replicationFactorMin: 1,
      replicationFactorMax: 2,
      userAllocations: [gamma.peerId],
    })
    expect(pin.replicationFactorMin).toBe(1)
    expect(pin.replicationFactorMax).toBe(2)
    expect(pin.userAllocations).toEqual([gamma.peerId])
    expect(pin.allocations).toHaveLength(2)
    expect(pin.allocations).toContain(gamma.peerId)
    const allocation = await Cluster.allocation(alpha.config, added)
    expect([...allocation.allocations].sort()).toEqual([...pin.allocations].sort())
    // The two allocated peers keep it pinned; the third lets it go and reports it remote.
    const status = await waitFor(
      `${added} pinned on its two allocations, remote on the third`,
      async () => {
        const answer = await Cluster.status(alpha.config, added)
        const entries = Object.entries(answer.peerMap ?? {})
        const pinned = entries.filter(([, entry]) => entry.status === 'pinned').map(([id]) => id)
        const remote = entries.filter(([, entry]) => entry.status === 'remote')
        return pinned.length === 2 && remote.length === 1 ? pinned : undefined
      },
      60_000,
    )
    expect(status.sort()).toEqual([...pin.allocations].sort())
  }, 90_000)

  it("refuses more copies than there are peers with 1.x's error, and commits nothing", async () => {
    const alpha = peers[0] as Peer
    const before = await Cluster.allocation(alpha.config, added)
    const failure = await Cluster.pin(alpha.config, added, {
      replicationFactorMin: 5,
      replicationFactorMax: 5,
    }).catch((error: Error & { response?: Response }) => error)
    expect(failure).toBeInstanceOf(Error)
    const response = (failure as Error & { response: Response }).response
    expect(response.status).toBe(500)
    // As 1.x counts them: beyond the two current allocations, 3 more needed, 1 peer left.
    expect(((await response.json()) as { message: string }).message).toBe(
      'not enough peers to allocate CID. Needed at least: 3. Wanted at most: 3. Available candidates: 1. See logs for more info.',
    )
    const after = await Cluster.allocation(alpha.config, added)
    expect(after.replicationFactorMax).toBe(before.replicationFactorMax)
    expect([...after.allocations].sort()).toEqual([...before.allocations].sort())
  }, 30_000)

  it('unpins, and every peer reports it unpinned', async () => {
    expect(added).not.toBe('')
    const gamma = peers[2] as Peer
    await Cluster.unpin(gamma.config, added)
    await statusEverywhere(peers[0] as Peer, added, 'unpinned')
  }, 90_000)

  it('raises a ping alert for a peer that died, which `pinraft health alerts` prints', async () => {
    const [alpha, , gamma] = peers as [Peer, Peer, Peer]
    gamma.daemon!.child.kill('SIGKILL')
    await gamma.daemon!.exited
    gamma.daemon = undefined
    // Its ping is valid for 2 × monitor_ping_interval (2s), then checked every second.
    const alerts = await waitFor(
      'a ping alert for the dead peer',
      async () => {
        const response = await fetch(new URL('health/alerts', alpha.config.url))
        const list = (await response.json()) as { name: string; peer: string }[]
        return list.some((alert) => alert.name === 'ping' && alert.peer === gamma.peerId)
          ? list
          : undefined
      },
      30_000,
    )
    expect(alerts[0]).toHaveProperty('triggered_at')
    const printed = await runPinraft(
      ['health', 'alerts', '--host', alpha.config.url.toString()],
      alpha.environment,
    )
    expect(printed.code, printed.stderr).toBe(0)
    expect(printed.stdout).toMatch(
      // go-humanize says `now` within a second.
      new RegExp(
        `^${gamma.peerId}: ping\\. Expired at: (.+ ago|now)\\. Triggered at: (.+ ago|now)\\n`,
        'm',
      ),
    )
  }, 60_000)
})
