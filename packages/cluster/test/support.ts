import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
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
import { Cluster } from '../src/cluster.ts'

export interface ClusterPeer {
  name: string
  libp2p: Libp2p
  consensus: MemoryConsensus
  connector: FakeIpfsConnector
  tracker: StatelessTracker
  cluster: Cluster
}

export async function contentCid(text: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))
}

/** `count` libp2p hosts on 127.0.0.1 (TCP, noise, yamux), each knowing the others' addresses. */
export async function startLoopbackHosts(count: number): Promise<Libp2p[]> {
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
  for (const host of hosts) {
    for (const other of hosts) {
      if (other !== host)
        await host.peerStore.merge(other.peerId, { multiaddrs: other.getMultiaddrs() })
    }
  }
  return hosts
}

/**
 * Peers with real libp2p hosts on 127.0.0.1 (no other address, nothing dialled but each other),
 * one shared in-memory pinset and a fake IPFS node each; content any node holds can be pinned.
 */
export class TestCluster {
  readonly group = new MemoryConsensusGroup()
  readonly network = new FakeIpfsNetwork()
  readonly peers: ClusterPeer[] = []
  /** The trackers' clock: reconciliation passes run only when a test moves it. */
  readonly clock = new ManualClock(Date.now())

  async start(count: number): Promise<ClusterPeer[]> {
    const hosts = await startLoopbackHosts(count)
    for (const host of hosts) this.group.members.push(host.peerId.toString())
    for (const [index, host] of hosts.entries()) {
      const peerId = host.peerId.toString()
      const consensus = this.group.peer(peerId)
      const connector = new FakeIpfsConnector({ network: this.network })
      await connector.start()
      const name = `peer${index + 1}`
      const tracker = new StatelessTracker({
        connector,
        consensus,
        peerId,
        peername: name,
        clock: this.clock,
      })
      await tracker.start()
      const cluster = new Cluster(
        { libp2p: host, consensus, connector, tracker },
        { peername: name, peerTimeout: 5000, streamFrameTimeout: 10_000 },
      )
      await cluster.start()
      this.peers.push({ name, libp2p: host, consensus, connector, tracker, cluster })
    }
    return this.peers
  }

  /** Stops a peer the way a crash looks from outside: its host goes away. */
  async kill(peer: ClusterPeer): Promise<void> {
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

/** Polls `check` until it returns true (bounded: at most `attempts` rounds). */
export async function eventually(check: () => Promise<boolean>, attempts = 200): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('the condition did not hold within the attempts allowed')
}
