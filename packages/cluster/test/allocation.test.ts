import { getEventListeners } from 'node:events'
import type { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { Cluster } from '../src/cluster.ts'
import { ClusterStoppedError } from '../src/errors.ts'
import type { GlobalPinInfo } from '../src/global-pin-info.ts'
import {
  AllocationCluster,
  type AllocationClusterOptions,
  type AllocationPeer,
} from './allocation-support.ts'
import { contentCid, eventually } from './support.ts'

let cluster: AllocationCluster | undefined

afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

function statuses(global: GlobalPinInfo, peers: readonly AllocationPeer[]): Record<string, string> {
  const names = new Map(peers.map((peer) => [peer.id, peer.name]))
  return Object.fromEntries(
    [...global.peerMap].map(([id, entry]) => [names.get(id) ?? id, entry.status]),
  )
}

function names(peers: readonly AllocationPeer[], ids: readonly string[]): string[] {
  return ids.map((id) => peers.find((peer) => peer.id === id)?.name ?? id).sort()
}

async function started(
  count: number,
  options?: AllocationClusterOptions,
): Promise<AllocationPeer[]> {
  cluster = new AllocationCluster()
  const peers = await cluster.start(count, options ?? {})
  await cluster.warmUp()
  return peers
}

async function content(peer: AllocationPeer, text: string): Promise<CID> {
  const cid = await contentCid(text)
  peer.connector.addContent(cid)
  return cid
}

describe('Cluster.pin with allocation', () => {
  it('allocates replication-max 2 of 3 peers by free space, pinned there and remote on the third', async () => {
    const peers = await started(3)
    const [first, second, third] = peers
    const cid = await content(first!, 'two of three')
    const pin = await first!.cluster.pin({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    // peer3 has the most free space, then peer2.
    expect(names(peers, pin.allocations)).toEqual(['peer2', 'peer3'])
    expect(cluster!.group.pinset.get(cid)?.allocations).toEqual(pin.allocations)
    await eventually(async () => second!.connector.isPinned(cid) && third!.connector.isPinned(cid))
    expect(statuses(await first!.cluster.status(cid), peers)).toEqual({
      peer1: 'remote',
      peer2: 'pinned',
      peer3: 'pinned',
    })
    expect(first!.connector.isPinned(cid)).toBe(false)
  })

  it('spreads max 2 over two tag groups, the freest peer of each', async () => {
    const peers = await started(4, {
      tags: ['eu', 'eu', 'us', 'us'],
      allocateBy: ['tag:group', 'freespace'],
    })
    const cid = await contentCid('one per group')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    // peer2 is the freest of "eu", peer4 of "us".
    expect(names(peers, pin.allocations)).toEqual(['peer2', 'peer4'])
  })

  it('refuses replication-min above the peers available with 1.x’s error and commits nothing', async () => {
    const peers = await started(3)
    const cid = await contentCid('five of three')
    const error = await peers[0]!.cluster
      .pin({ cid, replicationFactorMin: 5, replicationFactorMax: 5 })
      .catch((caught: unknown) => caught as Error)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('AllocationError')
    expect((error as Error).message).toBe(
      'not enough peers to allocate CID. Needed at least: 5. Wanted at most: 5. Available candidates: 3. See logs for more info.',
    )
    expect(cluster!.group.pinset.has(cid)).toBe(false)
    expect(peers[0]!.consensus.logPins).toBe(0)
  })

  it('checks replication factors with 1.x’s messages after applying the cluster defaults', async () => {
    const peers = await started(1)
    const cid = await contentCid('bad factors')
    const failure = (min: number, max: number) =>
      peers[0]!.cluster.pin({ cid, replicationFactorMin: min, replicationFactorMax: max }).then(
        () => null,
        (error: Error) => [error.name, error.message],
      )
    expect(await failure(3, 2)).toEqual([
      'ReplicationFactorError',
      'cluster.replication_factor_min is larger than max',
    ])
    expect(await failure(-1, 2)).toEqual([
      'ReplicationFactorError',
      'cluster.replication_factor_min and max must be -1 when one of them is',
    ])
    // 0 is the cluster's default (-1/-1 here): everywhere, no allocations.
    const pin = await peers[0]!.cluster.pin({ cid })
    expect(pin.replicationFactorMin).toBe(-1)
    expect(pin.allocations).toEqual([])
  })

  it('refuses an expiry in the past and a recursive pin re-pinned as direct', async () => {
    const peers = await started(1)
    const cid = await contentCid('checks')
    const expired = await peers[0]!.cluster
      .pin({ cid, expireAt: Date.now() - 60_000 })
      .catch((error: Error) => error)
    expect((expired as Error).name).toBe('PinOptionsError')
    expect((expired as Error).message).toBe('pin.ExpireAt set before current time')
    await peers[0]!.cluster.pin({ cid })
    const direct = await peers[0]!.cluster
      .pin({ cid, mode: 'direct', maxDepth: 0 })
      .catch((error: Error) => error)
    expect((direct as Error).message).toBe(
      'cannot repin a CID which is already pinned in recursive mode (new pin is pinned as direct). Unpin it first.',
    )
  })

  it('places user allocations first and keeps current allocations on a re-pin', async () => {
    const peers = await started(3)
    const cid = await contentCid('user allocations')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 2,
      userAllocations: [peers[0]!.id],
    })
    expect(names(peers, pin.allocations)).toEqual(['peer1', 'peer3'])
    // peer2 becomes the freest: a re-pin still keeps the pin where it is.
    peers[1]!.freeSpace = 1_000_000
    await cluster!.publishAll()
    const again = await peers[2]!.cluster.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 2,
      name: 'renamed',
    })
    expect(names(peers, again.allocations)).toEqual(['peer1', 'peer3'])
    expect(again.name).toBe('renamed')
  })

  it('stores origins and shard-size with the allocated pin', async () => {
    const peers = await started(2)
    const cid = await contentCid('with origins')
    const origin = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFakeIpfsNodeOrigin'
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 1,
      origins: [origin],
      shardSize: 1024 * 1024,
    })
    expect(pin.allocations).toHaveLength(1)
    const stored = cluster!.group.pinset.get(cid)!
    expect(stored.origins).toEqual([origin])
    expect(stored.shardSize).toBe(1024 * 1024)
  })

  it('pins everywhere with -1/-1 even when allocations are given', async () => {
    const peers = await started(2)
    const cid = await contentCid('everywhere')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      allocations: [peers[1]!.id],
    })
    expect(pin.allocations).toEqual([])
  })
})

describe('Cluster.pin with pinUpdate', () => {
  it('pins the new CID with the old pin’s allocations and options and keeps the old one (1.x)', async () => {
    const peers = await started(3)
    const from = await contentCid('version 1')
    const to = await contentCid('version 2')
    const old = await peers[0]!.cluster.pin({
      cid: from,
      name: 'site',
      replicationFactorMin: 1,
      replicationFactorMax: 2,
      metadata: { kind: 'website' },
    })
    // Allocation would now prefer peer1: an update still follows the old pin.
    peers[0]!.freeSpace = 1_000_000
    await cluster!.publishAll()
    const updated = await peers[1]!.cluster.pin({ cid: to }, { pinUpdate: from })
    expect(updated.cid.toString()).toBe(to.toString())
    expect(updated.allocations).toEqual(old.allocations)
    expect(updated.name).toBe('site')
    expect(updated.replicationFactorMax).toBe(2)
    expect(updated.metadata).toEqual({ kind: 'website' })
    expect(cluster!.group.pinset.has(from)).toBe(true)
    const renamed = await peers[1]!.cluster.pin({ cid: to, name: 'site v2' }, { pinUpdate: from })
    expect(renamed.name).toBe('site v2')
  })

  it('answers PinNotFoundError when the pin to update from is not in the pinset', async () => {
    const peers = await started(1)
    const error = await peers[0]!.cluster
      .pin({ cid: await contentCid('to') }, { pinUpdate: await contentCid('nothing') })
      .catch((caught: Error) => caught)
    expect((error as Error).name).toBe('PinNotFoundError')
    expect(cluster!.group.pinset.count()).toBe(0)
  })
})

describe('Cluster.peerRemove', () => {
  it('moves the pins allocated to the peer elsewhere, then removes it from consensus', async () => {
    const peers = await started(4)
    const cids: CID[] = []
    for (let i = 0; i < 5; i++) {
      const cid = await contentCid(`on peer 4 ${i}`)
      cids.push(cid)
      const pin = await peers[0]!.cluster.pin({
        cid,
        replicationFactorMin: 2,
        replicationFactorMax: 2,
      })
      expect(pin.allocations).toContain(peers[3]!.id)
    }
    // Above replication-min without the peer: the peer is only dropped from the allocations.
    const spare = await contentCid('spare replica on peer 4')
    const spared = await peers[0]!.cluster.pin({
      cid: spare,
      replicationFactorMin: 1,
      replicationFactorMax: 2,
    })
    expect(spared.allocations).toContain(peers[3]!.id)
    const elsewhere = await contentCid('not on peer 4')
    await peers[0]!.cluster.pin({
      cid: elsewhere,
      replicationFactorMin: 1,
      replicationFactorMax: 1,
      userAllocations: [peers[0]!.id],
    })
    await peers[0]!.cluster.peerRemove(peers[3]!.id)
    expect(cluster!.group.members).not.toContain(peers[3]!.id)
    for (const cid of cids) {
      const allocations = cluster!.group.pinset.get(cid)!.allocations
      expect(allocations).not.toContain(peers[3]!.id)
      expect(allocations).toHaveLength(2)
    }
    expect(cluster!.group.pinset.get(elsewhere)!.allocations).toEqual([peers[0]!.id])
    expect(cluster!.group.pinset.get(spare)!.allocations).toEqual(
      spared.allocations.filter((peer) => peer !== peers[3]!.id),
    )
  })

  it('leaves the allocations alone when repinning is disabled', async () => {
    cluster = new AllocationCluster()
    const peers = await cluster.start(3, { init: { disableRepinning: true } })
    await cluster.warmUp()
    const cid = await contentCid('stays')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect(pin.allocations).toContain(peers[2]!.id)
    await peers[0]!.cluster.peerRemove(peers[2]!.id)
    expect(cluster.group.members).not.toContain(peers[2]!.id)
    expect(cluster.group.pinset.get(cid)!.allocations).toEqual(pin.allocations)
  })
})

describe('repinning on alerts', () => {
  async function loseThirdPeer(disableRepinning = false) {
    cluster = new AllocationCluster()
    const peers = await cluster.start(3, { init: { disableRepinning } })
    await cluster.warmUp()
    const cid = await content(peers[0]!, 'lost with peer 3')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect(names(peers, pin.allocations)).toEqual(['peer2', 'peer3'])
    const commitsBefore = peers.map((peer) => peer.consensus.logPins)
    // peer2 leads: peer1, which checks first, must leave the work to it.
    cluster.leader = peers[1]!.id
    // peer3 goes silent; its ping expires after 2 intervals and the detector fires.
    peers[2]!.silent = true
    for (let round = 0; round < 4; round++) {
      await cluster.clock.advance(cluster.pingInterval)
      await cluster.publishAll()
      cluster.checkAll()
    }
    return { peers, cid, commitsBefore }
  }

  it('re-allocates the lost peer’s pins below replication-min, on the leader only', async () => {
    const { peers, cid, commitsBefore } = await loseThirdPeer()
    await eventually(
      async () => !cluster!.group.pinset.get(cid)!.allocations.includes(peers[2]!.id),
    )
    expect(names(peers, cluster!.group.pinset.get(cid)!.allocations)).toEqual(['peer1', 'peer2'])
    // Both live peers raised the alert; only the leader (peer2) committed.
    expect((await peers[0]!.cluster.alerts())[0]?.metric.peer).toBe(peers[2]!.id)
    expect((await peers[1]!.cluster.alerts())[0]?.metric.peer).toBe(peers[2]!.id)
    expect(peers[0]!.consensus.logPins - commitsBefore[0]!).toBe(0)
    expect(peers[1]!.consensus.logPins - commitsBefore[1]!).toBe(1)
    await eventually(async () => peers[0]!.connector.isPinned(cid))
  })

  it('re-allocates a lost leader’s pins once the others have elected a new leader', async () => {
    cluster = new AllocationCluster()
    const peers = await cluster.start(3, { init: { leaderWaitTimeout: 5000 } })
    await cluster.warmUp()
    const cid = await content(peers[0]!, 'the leader dies')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect(pin.allocations).toContain(peers[2]!.id)
    // peer3 leads and dies; the survivors still believe it leads when their alerts fire.
    cluster.leader = peers[2]!.id
    peers[2]!.silent = true
    for (let round = 0; round < 4; round++) {
      await cluster.clock.advance(cluster.pingInterval)
      await cluster.publishAll()
      cluster.checkAll()
    }
    expect(cluster.group.pinset.get(cid)!.allocations).toContain(peers[2]!.id)
    cluster.leader = peers[0]!.id
    await eventually(
      async () => !cluster!.group.pinset.get(cid)!.allocations.includes(peers[2]!.id),
    )
    expect(names(peers, cluster.group.pinset.get(cid)!.allocations)).toEqual(['peer1', 'peer2'])
  })

  it('re-allocates nothing when cluster.disable_repinning is set', async () => {
    const { peers, cid, commitsBefore } = await loseThirdPeer(true)
    expect((await peers[0]!.cluster.alerts()).length).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(peers[0]!.consensus.logPins).toBe(commitsBefore[0])
    expect(cluster!.group.pinset.get(cid)!.allocations).toContain(peers[2]!.id)
  })

  it('keeps a pin that still has replication-min elsewhere where it is (1.x)', async () => {
    cluster = new AllocationCluster()
    const peers = await cluster.start(3)
    await cluster.warmUp()
    const cid = await contentCid('still enough')
    const pin = await peers[0]!.cluster.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 2,
    })
    expect(pin.allocations).toContain(peers[2]!.id)
    peers[2]!.silent = true
    for (let round = 0; round < 4; round++) {
      await cluster.clock.advance(cluster.pingInterval)
      await cluster.publishAll()
      cluster.checkAll()
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(cluster.group.pinset.get(cid)!.allocations).toEqual(pin.allocations)
  })
})

describe('ClusterHealth', () => {
  it('gives the monitor’s metric names and latest metrics', async () => {
    const peers = await started(3)
    expect(await peers[0]!.cluster.metricNames()).toEqual(['freespace', 'ping'])
    const free = await peers[0]!.cluster.latestMetrics('freespace')
    expect(free.map((metric) => metric.value)).toHaveLength(3)
    expect(free.find((metric) => metric.peer === peers[2]!.id)?.value).toBe('3000')
  })

  it('builds the connect graph, with no links for a peer that cannot be asked', async () => {
    const peers = await started(3)
    await peers[0]!.cluster.connectGraph()
    await peers[2]!.cluster.stop()
    await peers[2]!.libp2p.stop()
    const graph = await peers[0]!.cluster.connectGraph()
    const [first, second, third] = peers.map((peer) => peer.id)
    expect(graph.clusterId).toBe(first)
    expect(graph.clusterLinks[first!]).toContain(second)
    expect(graph.clusterLinks[second!]).toContain(first)
    expect(graph.clusterLinks[third!]).toEqual([])
    expect(graph.idToPeername).toEqual({ [first!]: 'peer1', [second!]: 'peer2' })
    expect(Object.keys(graph.clusterTrustLinks).sort()).toEqual([first, second, third].sort())
    const ipfsOfFirst = graph.clusterToIpfs[first!]
    expect(ipfsOfFirst).toMatch(/^12D3KooWFakeIpfsNode/)
    expect(graph.ipfsLinks[ipfsOfFirst!]).toEqual([])
    expect(graph.clusterToIpfs[third!]).toBeUndefined()
    // Restarted for afterEach's stop.
    peers[2]!.cluster = new Cluster({
      libp2p: peers[2]!.libp2p,
      consensus: peers[2]!.consensus,
      connector: peers[2]!.connector,
      tracker: peers[2]!.tracker,
    })
  })

  it('reports no bandwidth when the host measures none', async () => {
    const peers = await started(1)
    expect(await peers[0]!.cluster.bandwidthByProtocol()).toEqual({})
  })
})

describe('Cluster.pin and its abort signal', () => {
  it("hands consensus a signal that follows the caller's abort and the cluster's stop, and keeps no listener", async () => {
    const [peer] = await started(1)
    const signals: AbortSignal[] = []
    const answer = peer!.consensus.logPin
    peer!.consensus.logPin = (_input, options) =>
      new Promise((_resolve, reject) => {
        const signal = options?.signal as AbortSignal
        signals.push(signal)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    const caller = new AbortController()
    const given = peer!.cluster.pin(
      { cid: await contentCid('given up') },
      { signal: caller.signal },
    )
    await eventually(async () => signals.length === 1)
    caller.abort(new Error('the caller gave up'))
    await expect(given).rejects.toThrow('the caller gave up')
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0)

    // A pin that completes leaves no listener on the caller's signal either.
    peer!.consensus.logPin = answer
    const patient = new AbortController()
    await peer!.cluster.pin({ cid: await contentCid('completed') }, { signal: patient.signal })
    expect(getEventListeners(patient.signal, 'abort')).toHaveLength(0)

    peer!.consensus.logPin = (_input, options) =>
      new Promise((_resolve, reject) => {
        const signal = options?.signal as AbortSignal
        signals.push(signal)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    const stopped = peer!.cluster.pin(
      { cid: await contentCid('stopped') },
      { signal: new AbortController().signal },
    )
    await eventually(async () => signals.length === 2)
    await peer!.cluster.stop()
    await expect(stopped).rejects.toBeInstanceOf(ClusterStoppedError)
  })
})
