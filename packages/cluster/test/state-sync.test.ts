import { ManualClock } from '@pinraft/raft-core'
import { describe, expect, it } from 'vitest'
import { Cluster } from '../src/cluster.ts'
import { isClosest } from '../src/state-sync.ts'
import { contentCid, TestCluster } from './support.ts'

describe('state sync: expired pins', () => {
  it('unpins an expired pin on exactly one peer, the closest to its CID', async () => {
    const cluster = new TestCluster()
    try {
      const peers = await cluster.start(3)
      const ids = peers.map((peer) => peer.libp2p.peerId.toString())
      const expired = []
      for (let i = 0; i < 6; i++) {
        const cid = await contentCid(`expired ${i}`)
        expired.push(cid)
        cluster.group.pin({ cid, expireAt: Date.now() - 1000, timestamp: Date.now() - 5000 })
      }
      const kept = await contentCid('expires later')
      cluster.group.pin({ cid: kept, expireAt: Date.now() + 3_600_000 })
      const forever = await contentCid('never expires')
      cluster.group.pin({ cid: forever })
      // Every CID has one closest member, the same on every peer.
      for (const cid of expired) {
        expect(ids.filter((id) => isClosest(cid, id, ids))).toHaveLength(1)
      }
      const counts = []
      for (const peer of peers) counts.push(await peer.cluster.stateSync())
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(6)
      for (const [index, id] of ids.entries()) {
        expect(counts[index]).toBe(expired.filter((cid) => isClosest(cid, id, ids)).length)
      }
      expect(cluster.group.pinset.count()).toBe(2)
      expect(cluster.group.pinset.has(kept)).toBe(true)
      expect(cluster.group.pinset.has(forever)).toBe(true)
    } finally {
      await cluster.stop()
    }
  })

  it('runs every state_sync_interval once started', async () => {
    const cluster = new TestCluster()
    try {
      const [peer] = await cluster.start(1)
      const clock = new ManualClock(Date.now())
      // This peer's own cluster component gives the protocol over to one on a fake clock.
      await peer!.cluster.stop()
      const syncing = new Cluster(
        {
          libp2p: peer!.libp2p,
          consensus: peer!.consensus,
          connector: peer!.connector,
          tracker: peer!.tracker,
          clock,
        },
        { stateSyncInterval: 300_000 },
      )
      await syncing.start()
      const cid = await contentCid('expires in a minute')
      cluster.group.pin({ cid, expireAt: clock.now() + 60_000 })
      await clock.advance(300_000 - 1)
      expect(cluster.group.pinset.has(cid)).toBe(true)
      await clock.advance(1)
      expect(cluster.group.pinset.has(cid)).toBe(false)
      await syncing.stop()
    } finally {
      await cluster.stop()
    }
  })
})
