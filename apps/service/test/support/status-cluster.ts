import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { Cluster } from '@pinraft/cluster'
import { StatelessTracker } from '@pinraft/pintracker'
import {
  FakeIpfsConnector,
  FakeIpfsNetwork,
  type MemoryConsensus,
  MemoryConsensusGroup,
} from '@pinraft/pintracker/testing'
import { ManualClock } from '@pinraft/raft-core'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

export interface StatusPeer {
  name: string
  id: string
  libp2p: Libp2p
  consensus: MemoryConsensus
  connector: FakeIpfsConnector
  tracker: StatelessTracker
  cluster: Cluster
}

export async function contentCid(text: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))
}

/**
 * Cluster components for route and CLI tests: real libp2p hosts on 127.0.0.1, one in-memory
 * pinset, a fake IPFS node per peer. Reconciliation passes run only when `clock` moves.
 */
export class StatusCluster {
  readonly group = new MemoryConsensusGroup()
  readonly network = new FakeIpfsNetwork()
  readonly clock = new ManualClock(Date.parse('2030-01-02T03:04:05Z'))
  readonly peers: StatusPeer[] = []

  async start(count: number): Promise<StatusPeer[]> {
    const hosts = await Promise.all(
      Array.from({ length: count }, () =>
        createLibp2p({
          addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
          transports: [tcp()],
          connectionEncrypters: [noise()],
          streamMuxers: [yamux()],
        }),
      ),
    )
    for (const host of hosts) this.group.members.push(host.peerId.toString())
    for (const [index, host] of hosts.entries()) {
      for (const other of hosts) {
        if (other !== host)
          await host.peerStore.merge(other.peerId, { multiaddrs: other.getMultiaddrs() })
      }
      const id = host.peerId.toString()
      const name = `peer${index + 1}`
      const consensus = this.group.peer(id)
      const connector = new FakeIpfsConnector({ network: this.network })
      await connector.start()
      const tracker = new StatelessTracker({
        connector,
        consensus,
        peerId: id,
        peername: name,
        clock: this.clock,
      })
      await tracker.start()
      const cluster = new Cluster(
        { libp2p: host, consensus, connector, tracker },
        { peername: name, peerTimeout: 5000, streamFrameTimeout: 10_000 },
      )
      await cluster.start()
      this.peers.push({ name, id, libp2p: host, consensus, connector, tracker, cluster })
    }
    return this.peers
  }

  /** Content the first peer holds, pinned in the cluster; resolves once every peer pinned it. */
  async pinEverywhere(text: string, name = ''): Promise<CID> {
    const cid = await contentCid(text)
    this.peers[0]!.connector.addContent(cid)
    this.group.pin({ cid, name, timestamp: this.clock.now() })
    await eventually(async () => this.peers.every((peer) => peer.connector.isPinned(cid)))
    // Let each tracker see its operation finish.
    await new Promise((resolve) => setImmediate(resolve))
    return cid
  }

  async kill(peer: StatusPeer): Promise<void> {
    peer.consensus.detach()
    await peer.cluster.stop()
    await peer.tracker.stop()
    await peer.libp2p.stop()
  }

  async stop(): Promise<void> {
    for (const peer of this.peers) {
      await peer.cluster.stop()
      await peer.tracker.stop()
      await peer.libp2p.stop()
    }
  }
}

/** Polls `check` until it returns true (bounded: at most `attempts` rounds of 10 ms). */
export async function eventually(check: () => Promise<boolean>, attempts = 300): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('the condition did not hold within the attempts allowed')
}
