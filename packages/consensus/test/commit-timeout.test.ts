import type { TransportHandler } from '@pinraft/raft-core'
import { afterEach, describe, expect, it } from 'vitest'
import { type ConsensusLibp2p, cidFor, eventually, TestCluster } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

/**
 * Heartbeats every 200 ms (a tenth of heartbeat_timeout), so that what reaches a follower in a
 * few dozen milliseconds is what the pins themselves cause.
 */
const rareHeartbeats = { heartbeat_timeout: '2s', election_timeout: '2s' }

/** Counts the Raft messages each node receives, by its peer ID. */
function countReceived(received: Map<string, number>): (libp2p: ConsensusLibp2p) => void {
  return (libp2p) => {
    const raft = libp2p.services.raft
    const setHandler = raft.setHandler.bind(raft)
    const id = libp2p.peerId.toString()
    raft.setHandler = (handler: TransportHandler | undefined) => {
      if (handler === undefined) return setHandler(undefined)
      setHandler({
        ...handler,
        onMessage: (message) => {
          received.set(id, (received.get(id) ?? 0) + 1)
          handler.onMessage(message)
        },
      })
    }
  }
}

describe('commit_timeout (hashicorp/raft CommitTimeout, as IPFS Cluster sets it)', () => {
  it('lets the next append carry the commit index: a sequential pin costs a follower one message, not two', async () => {
    cluster = new TestCluster()
    const received = new Map<string, number>()
    const peers = await cluster.bootstrap(
      3,
      { ...rareHeartbeats, commit_timeout: '1s' },
      countReceived(received),
    )
    const leader = await cluster.leader()
    const followers = peers.filter((peer) => peer !== leader)
    const cids = await Promise.all(Array.from({ length: 40 }, (_, i) => cidFor(`sequential ${i}`)))
    const before = followers.map((follower) => received.get(follower.id) ?? 0)
    for (const cid of cids) await leader.consensus.logPin({ cid })
    followers.forEach((follower, index) => {
      const perPin = ((received.get(follower.id) ?? 0) - (before[index] ?? 0)) / cids.length
      // Two when every commit index goes out on its own (an append with entries, then one
      // without); about one when it waits for the next append.
      expect(perPin, `${follower.id}: ${perPin} messages per pin`).toBeLessThan(1.5)
    })
    // The last commit index still arrives, by commit_timeout or the next heartbeat.
    await eventually(
      () => followers.every((follower) => follower.consensus.state().count() === cids.length),
      5000,
    )
  })

  it('tells a follower that forwarded a pin its commit at once, so it answers without waiting', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3, { ...rareHeartbeats, commit_timeout: '10s' })
    const leader = await cluster.leader()
    const follower = peers.find((peer) => peer !== leader)
    if (follower === undefined) throw new Error('no follower')
    const cids = await Promise.all(Array.from({ length: 20 }, (_, i) => cidFor(`forwarded ${i}`)))
    const started = performance.now()
    for (const cid of cids) {
      await follower.consensus.logPin({ cid })
      // Read-your-writes on the follower that took the pin.
      expect(follower.consensus.state().has(cid)).toBe(true)
    }
    const elapsed = performance.now() - started
    // Waiting for a heartbeat to bring each commit index would take about 100 ms a pin (2 s
    // for 20); told at once, the 20 take a few milliseconds each.
    expect(elapsed, `${elapsed.toFixed(0)} ms for ${cids.length} forwarded pins`).toBeLessThan(1000)
  })
})
