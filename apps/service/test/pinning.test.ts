import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import type { Consensus } from '@pinraft/consensus'
import { defaultStatelessConfiguration } from '@pinraft/pintracker'
import { FakeIpfsConnector, MemoryConsensusGroup } from '@pinraft/pintracker/testing'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveServiceConfiguration } from '../src/config/service-configuration.ts'
import { type PinningInit, startPinning } from '../src/daemon/pinning.ts'
import { contentCid, eventually } from './support/status-cluster.ts'

/** The daemon's consensus is what startPinning takes (checked by the type checker). */
export function daemonConsensus(consensus: Consensus): PinningInit['consensus'] {
  return consensus
}

describe('startPinning', () => {
  it('builds a tracker that follows consensus and a cluster that answers for it, and stops both', async () => {
    const libp2p = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    try {
      const group = new MemoryConsensusGroup()
      const consensus = group.peer(libp2p.peerId.toString())
      const connector = new FakeIpfsConnector()
      await connector.start()
      const pinning = await startPinning({
        libp2p,
        consensus,
        connector,
        peername: 'alpha',
        stateless: defaultStatelessConfiguration,
        stateSyncInterval: 300_000,
        pinRecoverInterval: 720_000,
        peerTimeout: 5000,
        logger: pino({ level: 'silent' }),
      })
      const cid = await contentCid('wired')
      connector.addContent(cid)
      await pinning.cluster.pin({ cid, timestamp: Date.now() })
      await eventually(async () => connector.isPinned(cid))
      const global = await pinning.cluster.status(cid)
      expect([...global.peerMap.values()].map((entry) => [entry.peername, entry.status])).toEqual([
        ['alpha', 'pinned'],
      ])
      expect(libp2p.getProtocols()).toContain('/pinraft/cluster/1.0.0')
      await pinning.stop()
      expect(libp2p.getProtocols()).not.toContain('/pinraft/cluster/1.0.0')
      group.pin({ cid: await contentCid('after stop'), timestamp: Date.now() })
      expect(connector.calls).toHaveLength(1)
    } finally {
      await libp2p.stop()
    }
  })

  it('with allocation: serves the monitor protocol, publishes 1.x’s ping value, allocates, and stops it all', async () => {
    const libp2p = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    try {
      const group = new MemoryConsensusGroup()
      const consensus = group.peer(libp2p.peerId.toString())
      const connector = new FakeIpfsConnector()
      await connector.start()
      const configuration = resolveServiceConfiguration(
        {
          cluster: { secret: 'ab'.repeat(32) },
          informer: { tags: { tags: { group: 'eu' } } },
        },
        '/tmp/pinraft-pinning-test',
      )
      const pinning = await startPinning({
        libp2p,
        consensus,
        connector,
        peername: 'alpha',
        stateless: defaultStatelessConfiguration,
        stateSyncInterval: 300_000,
        pinRecoverInterval: 720_000,
        peerTimeout: 5000,
        allocation: {
          configuration: configuration.allocation,
          monitorPingInterval: 60_000,
          disableRepinning: false,
          replicationFactorMin: 1,
          replicationFactorMax: 1,
        },
        logger: pino({ level: 'silent' }),
      })
      expect(libp2p.getProtocols()).toContain('/pinraft/monitor/1.0.0')
      await eventually(async () => (pinning.monitor?.latestMetrics('ping').length ?? 0) === 1)
      const ping = pinning.monitor!.latestMetrics('ping')[0]!
      // The fake node listens on 127.0.0.1 only: no public address to give (1.x drops them).
      expect(JSON.parse(ping.value)).toEqual({
        peer_name: 'alpha',
        ipfs_id: (await connector.id()).id,
      })
      expect(await pinning.cluster.metricNames()).toEqual([
        'freespace',
        'numpin',
        'ping',
        'pinqueue',
        'tag:group',
      ])
      expect(
        (await pinning.cluster.latestMetrics('tag:group')).map((metric) => metric.value),
      ).toEqual(['eu'])
      // The cluster's defaults (1/1) apply to a pin given with 0, and it is allocated here.
      const cid = await contentCid('allocated')
      const pin = await pinning.cluster.pin({ cid })
      expect(pin.replicationFactorMax).toBe(1)
      expect(pin.allocations).toEqual([libp2p.peerId.toString()])
      await pinning.stop()
      expect(libp2p.getProtocols()).not.toContain('/pinraft/monitor/1.0.0')
    } finally {
      await libp2p.stop()
    }
  })
})
