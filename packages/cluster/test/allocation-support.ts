import type { Libp2p } from '@libp2p/interface'
import {
  BalancedAllocator,
  createDiskInformer,
  createTagsInformer,
  type Metric,
  Monitor,
} from '@pinraft/allocation'
import type { ConsensusStatus } from '@pinraft/consensus'
import { StatelessTracker } from '@pinraft/pintracker'
import {
  FakeIpfsConnector,
  FakeIpfsNetwork,
  type MemoryConsensus,
  MemoryConsensusGroup,
} from '@pinraft/pintracker/testing'
import { ManualClock } from '@pinraft/raft-core'
import type { PinInput } from '@pinraft/state-pinset'
import { Cluster } from '../src/cluster.ts'
import type { ClusterConsensus, ClusterInit } from '../src/components.ts'
import { startLoopbackHosts } from './support.ts'

/** A MemoryConsensus view with what the cluster needs for allocation: a leader and rmPeer. */
export interface LeadingConsensus extends ClusterConsensus {
  readonly addEventListener: MemoryConsensus['addEventListener']
  readonly removeEventListener: MemoryConsensus['removeEventListener']
  /** How many pins this peer committed (repinning must be done by the leader only). */
  logPins: number
}

export interface AllocationPeer {
  readonly name: string
  readonly id: string
  readonly libp2p: Libp2p
  readonly consensus: LeadingConsensus
  readonly view: MemoryConsensus
  readonly connector: FakeIpfsConnector
  readonly tracker: StatelessTracker
  readonly monitor: Monitor
  cluster: Cluster
  /** Bytes its disk informer reports free. */
  freeSpace: number
  /** Its monitor no longer publishes (the peer is gone). */
  silent: boolean
}

export interface AllocationClusterOptions {
  readonly tags?: readonly (string | null)[]
  readonly allocateBy?: readonly string[]
  readonly init?: ClusterInit
}

/**
 * Peers with real libp2p hosts on 127.0.0.1, one in-memory pinset, fake IPFS nodes, and a real
 * Monitor, BalancedAllocator and informers each. Metrics travel through an in-memory transport
 * and time is a ManualClock: a test publishes (`publishAll`) and checks (`checkAll`) when it
 * wants, so alerts come exactly when the test says.
 */
export class AllocationCluster {
  readonly group = new MemoryConsensusGroup()
  readonly network = new FakeIpfsNetwork()
  readonly clock = new ManualClock(Date.now())
  readonly peers: AllocationPeer[] = []
  leader: string | null = null
  readonly pingInterval = 1000

  async start(count: number, options: AllocationClusterOptions = {}): Promise<AllocationPeer[]> {
    const hosts = await startLoopbackHosts(count)
    for (const host of hosts) this.group.members.push(host.peerId.toString())
    for (const [index, host] of hosts.entries()) {
      const id = host.peerId.toString()
      const name = `peer${index + 1}`
      const view = this.group.peer(id)
      const consensus = this.#leading(view)
      const connector = new FakeIpfsConnector({ network: this.network })
      await connector.start()
      const tracker = new StatelessTracker({
        connector,
        consensus: view,
        peerId: id,
        peername: name,
        clock: this.clock,
      })
      await tracker.start()
      const peer = { freeSpace: 1000 * (index + 1), silent: false } as AllocationPeer
      const tag = options.tags?.[index]
      const monitor = new Monitor(
        {
          peerId: id,
          informers: [
            createDiskInformer(
              {
                peer: id,
                clock: this.clock,
                metricTtl: 30_000,
                connector: {
                  repoStat: async () => ({ repoSize: 0, storageMax: peer.freeSpace }),
                },
              },
              'freespace',
            ),
            ...(tag === undefined || tag === null
              ? []
              : [
                  createTagsInformer(
                    { peer: id, clock: this.clock, metricTtl: 30_000 },
                    { group: tag },
                  ),
                ]),
          ],
          peers: async () => [...this.group.members],
          transport: {
            send: async (to, metrics) => {
              const target = this.peers.find((candidate) => candidate.id === to)
              if (target === undefined || target.silent) throw new Error(`${to} is unreachable`)
              for (const metric of metrics)
                target.monitor.receive({ ...metric, peer: id } as Metric)
            },
          },
          clock: this.clock,
        },
        { pingInterval: this.pingInterval, checkInterval: this.pingInterval, failureThreshold: 3 },
      )
      const allocator = new BalancedAllocator({ allocateBy: options.allocateBy ?? ['freespace'] })
      const cluster = new Cluster(
        { libp2p: host, consensus, connector, tracker, monitor, allocator, clock: this.clock },
        {
          peername: name,
          peerTimeout: 3000,
          streamFrameTimeout: 10_000,
          disableRepinning: false,
          leaderWaitTimeout: 0,
          ...options.init,
        },
      )
      await cluster.start()
      Object.assign(peer, {
        name,
        id,
        libp2p: host,
        consensus,
        view,
        connector,
        tracker,
        monitor,
        cluster,
      })
      this.peers.push(peer)
    }
    this.leader = this.peers[0]!.id
    return this.peers
  }

  #leading(view: MemoryConsensus): LeadingConsensus {
    const consensus: LeadingConsensus = {
      peerId: view.peerId,
      logPins: 0,
      state: () => view.state(),
      peers: (options) => view.peers(options),
      logPin: async (input: PinInput, options) => {
        consensus.logPins++
        return view.logPin(input, options)
      },
      logUnpin: (cid, options) => view.logUnpin(cid, options),
      rmPeer: async (peer) => {
        const index = this.group.members.indexOf(peer)
        if (index >= 0) this.group.members.splice(index, 1)
      },
      status: () => ({ leader: this.leader }) as ConsensusStatus,
      addEventListener: view.addEventListener.bind(view),
      removeEventListener: view.removeEventListener.bind(view),
    }
    return consensus
  }

  /** Every peer that is not silent publishes its metrics and ping once. */
  async publishAll(): Promise<void> {
    for (const peer of this.peers) if (!peer.silent) await peer.monitor.publish()
  }

  /** Every peer that is not silent looks for expired pings. */
  checkAll(): void {
    for (const peer of this.peers) if (!peer.silent) peer.monitor.check()
  }

  /** Pings at a steady interval a few times, so the failure detector knows the rhythm. */
  async warmUp(rounds = 4): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      await this.publishAll()
      await this.clock.advance(this.pingInterval)
    }
    await this.publishAll()
  }

  async stop(): Promise<void> {
    for (const peer of this.peers) {
      await peer.cluster.stop()
      await peer.tracker.stop()
      await peer.libp2p.stop()
    }
  }
}
