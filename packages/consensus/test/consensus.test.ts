import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cidFor, eventually, TestCluster } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

describe('consensus on real libp2p nodes', () => {
  it('applies pins submitted on any peer exactly once on every peer', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    const cids: string[] = []
    for (let i = 0; i < 30; i++) {
      const cid = await cidFor(`pin ${i}`)
      cids.push(cid)
      const peer = peers[i % peers.length]
      const pin = await peer?.consensus.logPin({ cid, name: `pin-${i}` })
      expect(pin?.name).toBe(`pin-${i}`)
      // The submitting peer reads its own write at once.
      expect(peer?.consensus.state().has(cid)).toBe(true)
    }
    await eventually(() => peers.every((peer) => peer.consensus.state().count() === 30))
    for (const peer of peers) {
      for (const cid of cids) expect(peer.added.get(cid)).toBe(1)
      expect(await peer.consensus.peers()).toEqual(peers.map((p) => p.id).sort())
    }
    await peers[1]?.consensus.logUnpin(cids[0] as string)
    await eventually(() => peers.every((peer) => !peer.consensus.state().has(cids[0] as string)))
  })

  it('reads on a follower after readIndex see every pin acknowledged before it', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(3)
    const leader = await cluster.leader()
    const follower = cluster.running().find((peer) => peer !== leader)
    if (follower === undefined) throw new Error('no follower')
    for (let i = 0; i < 20; i++) {
      const cid = await cidFor(`read ${i}`)
      await leader.consensus.logPin({ cid })
      await follower.consensus.readIndex()
      expect(follower.consensus.state().has(cid)).toBe(true)
    }
  })

  it("reports operations forwarded, each follower's replication and every apply's duration", async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(3)
    const leader = await cluster.leader()
    const followers = cluster.running().filter((peer) => peer !== leader)
    const follower = followers[0] as (typeof followers)[number]
    const applied: number[] = []
    const stop = follower.consensus.observeApply((milliseconds) => applied.push(milliseconds))
    for (let i = 0; i < 5; i++) await follower.consensus.logPin({ cid: await cidFor(`fwd ${i}`) })
    expect(follower.consensus.status().proposalsForwarded).toBe(5)
    expect(leader.consensus.status().proposalsForwarded).toBe(0)
    await eventually(() => applied.length >= 5)
    expect(applied.every((milliseconds) => milliseconds >= 0)).toBe(true)
    stop()
    const seen = applied.length
    await leader.consensus.logPin({ cid: await cidFor('after stop') })
    await eventually(() => follower.consensus.state().count() === 6)
    expect(applied.length).toBe(seen)
    await eventually(() =>
      followers.every((peer) => leader.consensus.status().replication[peer.id]?.lag === 0),
    )
    const replication = leader.consensus.status().replication
    expect(Object.keys(replication).sort()).toEqual(followers.map((peer) => peer.id).sort())
    expect(replication[follower.id]?.match).toBeGreaterThanOrEqual(6)
    expect(follower.consensus.status().replication).toEqual({})
  })

  it('keeps every acknowledged pin when the leader stops mid-stream, without duplicates', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    const leader = await cluster.leader()
    const follower = peers.find((peer) => peer !== leader)
    if (follower === undefined) throw new Error('no follower')
    const acknowledged: string[] = []
    const submit = async () => {
      for (let i = 0; i < 40; i++) {
        const cid = await cidFor(`stream ${i}`)
        try {
          await follower.consensus.logPin({ cid })
          acknowledged.push(cid)
        } catch (error) {
          // An unknown outcome is allowed; a silent loss is not.
          expect(['OutcomeUnknownError', 'NoLeaderError']).toContain((error as Error).name)
        }
      }
    }
    const submitting = submit()
    await eventually(() => acknowledged.length >= 10)
    await cluster.stop(leader)
    await submitting
    expect(acknowledged.length).toBeGreaterThan(20)
    const survivors = cluster.running()
    await eventually(() =>
      survivors.every((peer) => acknowledged.every((cid) => peer.consensus.state().has(cid))),
    )
    for (const peer of survivors) {
      for (const count of peer.added.values()) expect(count).toBe(1)
    }
    // The old leader comes back with its data and catches up.
    const restarted = await cluster.start({ key: leader.key, folder: leader.folder })
    await eventually(() => acknowledged.every((cid) => restarted.consensus.state().has(cid)))
  })

  it('makes a peer joining a cluster of 100,000 pins ready only once it is a voter with all of them', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3, { snapshot_threshold: 64, trailing_logs: 16 })
    const leader = await cluster.leader()
    const pins = await Promise.all(Array.from({ length: 100_000 }, (_, i) => cidFor(`bulk ${i}`)))
    async function* inputs() {
      for (const cid of pins) yield { cid }
    }
    await leader.consensus.rollback(inputs())
    await eventually(
      () => peers.every((peer) => peer.consensus.state().count() === 100_000),
      60_000,
    )
    const joiner = await cluster.start({
      staging: true,
      raft: { snapshot_threshold: 64, trailing_logs: 16 },
    })
    let countAtReady = -1
    joiner.consensus.addEventListener('ready', () => {
      countAtReady = joiner.consensus.state().count()
    })
    expect(joiner.consensus.isReady).toBe(false)
    await peers[0]?.consensus.addPeer(joiner.id)
    await joiner.consensus.ready({ signal: AbortSignal.timeout(20_000) })
    expect(countAtReady).toBe(100_000)
    expect(joiner.consensus.status().voters).toContain(joiner.id)
  })

  it('makes a removed peer shut down and clean its Raft data', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    const victim = peers[2]
    if (victim === undefined) throw new Error('no peer')
    await peers[0]?.consensus.rmPeer(victim.id)
    await eventually(async () => {
      try {
        await stat(join(victim.folder, 'raft.old.0'))
        return true
      } catch {
        return false
      }
    })
    await expect(stat(join(victim.folder, 'raft'))).rejects.toThrow()
    expect(await peers[0]?.consensus.peers()).toEqual([peers[0]?.id, peers[1]?.id].sort())
  })

  it('refuses to remove the last peer, and treats re-adding a member as a no-op', async () => {
    cluster = new TestCluster()
    const [only] = await cluster.bootstrap(1)
    if (only === undefined) throw new Error('no peer')
    await only.consensus.addPeer(only.id)
    const error = await only.consensus.rmPeer(only.id).catch((e: unknown) => e)
    expect((error as Error).name).toBe('LastPeerError')
  })

  it('ignores init_peerset when it restarts with existing Raft state', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    const cid = await cidFor('kept')
    await peer.consensus.logPin({ cid })
    await cluster.stop(peer)
    const restarted = await cluster.start({
      key: peer.key,
      folder: peer.folder,
      initPeerset: ['12D3KooWGRUVh2aPhWFXCbFBcDPNgqnGhDUxhDbTNmTW3PUy9Z2X'],
    })
    await restarted.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    expect(await restarted.consensus.peers()).toEqual([peer.id])
    expect(restarted.consensus.state().has(cid)).toBe(true)
  })
})

describe('consensus limits', () => {
  it('refuses a pin too large for one log entry with a clear error, and keeps serving', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    const metadata: Record<string, string> = {}
    for (let i = 0; i < 700; i++) metadata[`key${i}`] = 'x'.repeat(1000)
    const error = await peer.consensus
      .logPin({ cid: await cidFor('huge'), metadata })
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe('OperationRejectedError')
    expect((error as Error).message).toMatch(/bytes once encoded/)
    await peer.consensus.logPin({ cid: await cidFor('small') })
    expect(peer.consensus.state().count()).toBe(1)
  })
})
