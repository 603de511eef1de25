import { afterEach, describe, expect, it } from 'vitest'
import { CONSENSUS_PIPELINE_PROTOCOL } from '../src/index.ts'
import { cidFor, eventually, TestCluster, type TestPeer } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

/** Streams of `protocol` open from `from` to `to`. */
function streamsTo(from: TestPeer, to: TestPeer, protocol: string): number {
  return from.libp2p
    .getConnections(to.libp2p.peerId)
    .flatMap((connection) => connection.streams)
    .filter((stream) => stream.protocol === protocol && stream.status === 'open').length
}

async function leaderAndFollower(): Promise<{ leader: TestPeer; follower: TestPeer }> {
  await cluster.bootstrap(3)
  const leader = await cluster.leader()
  const follower = cluster.running().find((peer) => peer !== leader)
  if (follower === undefined) throw new Error('no follower')
  return { leader, follower }
}

describe('forwarding to the leader', () => {
  it('sends every pin of a follower on one long-lived stream, whose answers come back to the right callers', async () => {
    cluster = new TestCluster()
    const { leader, follower } = await leaderAndFollower()
    for (let i = 0; i < 5; i++) await follower.consensus.logPin({ cid: await cidFor(`one ${i}`) })
    expect(streamsTo(follower, leader, CONSENSUS_PIPELINE_PROTOCOL)).toBe(1)
    // Many in flight at once, each with its own name: every caller gets its own pin back.
    const cids = await Promise.all(Array.from({ length: 200 }, (_, i) => cidFor(`many ${i}`)))
    const pins = await Promise.all(
      cids.map((cid, i) =>
        // Spread over turns of the event loop, so several batches are in flight together.
        new Promise((resolve) => setTimeout(resolve, i % 7))
          .then(() => follower.consensus.logPin({ cid, name: `name ${i}` }))
          .then((pin) => {
            // Read-your-writes: the index answered is this pin's, so it is applied here.
            expect(follower.consensus.state().has(cid)).toBe(true)
            return pin
          }),
      ),
    )
    pins.forEach((pin, i) => {
      expect(pin.cid.toString()).toBe(cids[i])
      expect(pin.name).toBe(`name ${i}`)
    })
    expect(streamsTo(follower, leader, CONSENSUS_PIPELINE_PROTOCOL)).toBe(1)
    expect(follower.consensus.status().proposalsForwarded).toBeGreaterThan(5)
    await eventually(() => leader.consensus.state().count() === 205)
  })

  it('falls back to a stream per request with a leader that does not speak the pipelined protocol', async () => {
    cluster = new TestCluster()
    const { leader, follower } = await leaderAndFollower()
    await leader.libp2p.unhandle(CONSENSUS_PIPELINE_PROTOCOL)
    const cid = await cidFor('fallback')
    await follower.consensus.logPin({ cid })
    await follower.consensus.logPin({ cid: await cidFor('fallback 2') })
    expect(leader.consensus.state().has(cid)).toBe(true)
    expect(streamsTo(follower, leader, CONSENSUS_PIPELINE_PROTOCOL)).toBe(0)
    expect(follower.consensus.status().proposalsForwarded).toBe(2)
  })

  it('opens a new stream after the one to the leader broke, and retries what it carried', async () => {
    cluster = new TestCluster()
    const { leader, follower } = await leaderAndFollower()
    await follower.consensus.logPin({ cid: await cidFor('before') })
    for (const connection of follower.libp2p.getConnections(leader.libp2p.peerId)) {
      for (const stream of connection.streams) {
        if (stream.protocol === CONSENSUS_PIPELINE_PROTOCOL) stream.abort(new Error('cut'))
      }
    }
    const cid = await cidFor('after')
    await follower.consensus.logPin({ cid })
    expect(leader.consensus.state().has(cid)).toBe(true)
    expect(streamsTo(follower, leader, CONSENSUS_PIPELINE_PROTOCOL)).toBe(1)
  })
})
