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
  const cluster = await initTestCluster('pinraft-client-e2e-')
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

  it('unpins, and every peer reports it unpinned', async () => {
    expect(added).not.toBe('')
    const gamma = peers[2] as Peer
    await Cluster.unpin(gamma.config, added)
    await statusEverywhere(peers[0] as Peer, added, 'unpinned')
  }, 90_000)
})
