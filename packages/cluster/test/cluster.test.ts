import { getEventListeners } from 'node:events'
import { FakeIpfsConnector } from '@pinraft/pintracker/testing'
import type { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import type { GlobalPinInfo } from '../src/global-pin-info.ts'
import { contentCid, eventually, TestCluster } from './support.ts'

let cluster: TestCluster | undefined

afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

function statuses(global: GlobalPinInfo): Record<string, string> {
  return Object.fromEntries(
    [...global.peerMap.values()].map((entry) => [entry.peername, entry.status]),
  )
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = []
  for await (const value of iterable) values.push(value)
  return values
}

describe('Cluster over libp2p', () => {
  it('reports pinned on every peer once each peer pinned content another peer holds', async () => {
    cluster = new TestCluster()
    const [first, , third] = await cluster.start(3)
    const cid = await contentCid('hello')
    first!.connector.addContent(cid)
    await first!.cluster.pin({ cid, name: 'hello', timestamp: Date.now() })
    await eventually(async () =>
      Object.values(statuses(await third!.cluster.status(cid))).every(
        (status) => status === 'pinned',
      ),
    )
    const global = await third!.cluster.status(cid)
    expect(global.name).toBe('hello')
    expect(statuses(global)).toEqual({ peer1: 'pinned', peer2: 'pinned', peer3: 'pinned' })
    const entry = global.peerMap.get(first!.libp2p.peerId.toString())
    expect(entry?.ipfsPeerId).toMatch(/^12D3KooWFakeIpfsNode/)
    expect(entry?.ipfsPeerAddresses).toHaveLength(1)
  })

  it("leaves no listener on the caller's signal after status, unpin and connect-graph calls", async () => {
    cluster = new TestCluster()
    const [first] = await cluster.start(3)
    const cid = await contentCid('asked about with one signal')
    first!.connector.addContent(cid)
    await first!.cluster.pin({ cid, timestamp: Date.now() })
    const caller = new AbortController()
    const { signal } = caller
    await first!.cluster.status(cid, { signal })
    await first!.cluster.statusLocal(cid, { signal })
    await first!.cluster.recoverLocal(cid, { signal })
    await first!.cluster.connectGraph({ signal })
    await first!.cluster.unpin(cid, { signal })
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    caller.abort()
    await expect(first!.cluster.status(cid, { signal })).rejects.toThrow()
  })

  it('answers a call made after it stopped with a rejected promise, not a throw', async () => {
    cluster = new TestCluster()
    const [first] = await cluster.start(1)
    const cid = await contentCid('asked about after the stop')
    await first!.cluster.stop()
    let answer: Promise<unknown> | undefined
    expect(() => {
      answer = first!.cluster.statusLocal(cid)
    }).not.toThrow()
    await expect(answer).rejects.toHaveProperty('name', 'ClusterStoppedError')
  })

  it('answers unpinned for every member for a CID outside the pinset', async () => {
    cluster = new TestCluster()
    const [first] = await cluster.start(3)
    const global = await first!.cluster.status(await contentCid('nobody pinned this'))
    expect(global.peerMap.size).toBe(3)
    expect([...global.peerMap.values()].every((entry) => entry.status === 'unpinned')).toBe(true)
    expect(global.name).toBe('')
  })

  it('shows an unreachable peer as cluster_error with the reason', async () => {
    cluster = new TestCluster()
    const [first, second] = await cluster.start(3)
    const cid = await contentCid('one peer down')
    first!.connector.addContent(cid)
    await first!.cluster.pin({ cid, timestamp: Date.now() })
    await eventually(async () =>
      Object.values(statuses(await first!.cluster.status(cid))).every(
        (status) => status === 'pinned',
      ),
    )
    await cluster.kill(second!)
    const global = await first!.cluster.status(cid)
    const down = global.peerMap.get(second!.libp2p.peerId.toString())
    expect(down?.status).toBe('cluster_error')
    expect(down?.error).not.toBe('')
    // What the peer said about itself before is kept for its error entry.
    expect(down?.peername).toBe('peer2')
    expect(statuses(global).peer1).toBe('pinned')
  })

  it('recovers a pin removed behind the tracker’s back on another peer', async () => {
    cluster = new TestCluster()
    const [first, second, third] = await cluster.start(3)
    const cid = await contentCid('lost on peer 2')
    first!.connector.addContent(cid)
    await first!.cluster.pin({ cid, timestamp: Date.now() })
    await eventually(async () => second!.connector.isPinned(cid))
    second!.connector.removePinBehindTheBack(cid)
    const lost = await third!.cluster.status(cid)
    expect(statuses(lost).peer2).toBe('unexpectedly_unpinned')
    expect(lost.peerMap.get(second!.libp2p.peerId.toString())?.error).toBe(
      'the item should be pinned but it is not',
    )
    const recovered = await third!.cluster.recover(cid)
    expect(['pinning', 'pin_queued', 'pinned']).toContain(statuses(recovered).peer2)
    await eventually(async () => statuses(await third!.cluster.status(cid)).peer2 === 'pinned')
  })

  it('merges every peer’s stream of all statuses, one entry per CID in CID order', async () => {
    cluster = new TestCluster()
    const [first, second, third] = await cluster.start(3)
    const cids: CID[] = []
    for (let i = 0; i < 150; i++) {
      const cid = await contentCid(`bulk ${i}`)
      first!.connector.addContent(cid)
      cids.push(cid)
      await first!.cluster.pin({ cid, timestamp: Date.now() })
    }
    await eventually(async () =>
      [first, second, third].every((peer) => peer!.connector.pinCount === 150),
    )
    third!.connector.removePinBehindTheBack(cids[7]!)
    first!.connector.removePinBehindTheBack(cids[8]!)
    first!.connector.addContent(cids[8]!)
    second!.connector.removePinBehindTheBack(cids[9]!)
    const all = await collect(second!.cluster.statusAll())
    expect(all).toHaveLength(150)
    const order: string[] = []
    for await (const pin of cluster.group.pinset.list()) order.push(pin.cid.toString())
    expect(all.map((global) => global.cid.toString())).toEqual(order)
    for (const global of all) expect(global.peerMap.size).toBe(3)
    expect(
      all.filter((global) => Object.values(statuses(global)).includes('unexpectedly_unpinned')),
    ).toHaveLength(3)
    const lost = all.find((global) => global.cid.equals(cids[7]!))
    expect(statuses(lost!)).toEqual({
      peer1: 'pinned',
      peer2: 'pinned',
      peer3: 'unexpectedly_unpinned',
    })

    const filtered = await collect(
      first!.cluster.statusAll({ filter: new Set(['unexpectedly_unpinned']) }),
    )
    // Each peer's stream holds other CIDs: the merge keeps the pinset's order across them.
    const expected = [
      [cids[7]!.toString(), { peer3: 'unexpectedly_unpinned' }],
      [cids[8]!.toString(), { peer1: 'unexpectedly_unpinned' }],
      [cids[9]!.toString(), { peer2: 'unexpectedly_unpinned' }],
    ].sort((a, b) => order.indexOf(a[0] as string) - order.indexOf(b[0] as string))
    expect(filtered.map((global) => [global.cid.toString(), statuses(global)])).toEqual(expected)

    const recovered = await collect(first!.cluster.recoverAll())
    expect(recovered.map((global) => global.cid.toString())).toEqual(
      expected.map((entry) => entry[0]),
    )
    await eventually(async () =>
      [first, second, third].every((peer) => peer!.connector.pinCount === 150),
    )
  })

  it('lists a stopped peer as cluster_error on every CID of the stream', async () => {
    cluster = new TestCluster()
    const [first, second] = await cluster.start(3)
    const cids = [await contentCid('s1'), await contentCid('s2')]
    for (const cid of cids) {
      first!.connector.addContent(cid)
      await first!.cluster.pin({ cid, timestamp: Date.now() })
    }
    await cluster.kill(second!)
    const all = await collect(first!.cluster.statusAll())
    expect(all).toHaveLength(2)
    for (const global of all) {
      const entry = global.peerMap.get(second!.libp2p.peerId.toString())
      expect(entry?.status).toBe('cluster_error')
      expect(entry?.error).not.toBe('')
    }
  })

  it('pins and unpins by IPFS path, resolved through the connector', async () => {
    cluster = new TestCluster()
    const [first] = await cluster.start(1)
    const cid = await contentCid('by path')
    first!.connector.setResolution('/ipfs/bafyroot/docs/readme', cid)
    const pin = await first!.cluster.pinPath('/ipfs/bafyroot/docs/readme', { name: 'readme' })
    expect(pin.cid.toString()).toBe(cid.toString())
    expect(cluster.group.pinset.get(cid)?.name).toBe('readme')
    await first!.cluster.unpinPath('/ipfs/bafyroot/docs/readme')
    expect(cluster.group.pinset.has(cid)).toBe(false)
    await expect(first!.cluster.unpinPath('/ipfs/bafyroot/docs/readme')).rejects.toMatchObject({
      name: 'PinNotFoundError',
    })
    await expect(first!.cluster.pinPath('/ipns/unknown.example', {})).rejects.toMatchObject({
      name: 'PathResolveError',
    })
  })

  it('lets a peer that is stopped and restarted re-pin what it must hold', async () => {
    cluster = new TestCluster()
    const [first, second] = await cluster.start(2)
    const cid = await contentCid('restart')
    first!.connector.addContent(cid)
    await first!.cluster.pin({ cid, timestamp: Date.now() })
    await eventually(async () => second!.connector.isPinned(cid))
    // Same peer, an emptied IPFS repository, a new tracker following consensus again.
    await second!.tracker.stop()
    const connector = new FakeIpfsConnector({ network: cluster.network })
    const { StatelessTracker } = await import('@pinraft/pintracker')
    const tracker = new StatelessTracker({
      connector,
      consensus: second!.consensus,
      peerId: second!.libp2p.peerId.toString(),
      peername: 'peer2',
      clock: cluster.clock,
    })
    await tracker.start()
    // The first reconciliation pass runs at once after start.
    await cluster.clock.advance(0)
    await eventually(async () => connector.isPinned(cid))
    await tracker.stop()
  })
})
