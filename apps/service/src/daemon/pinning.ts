import { Cluster, type ClusterConsensus, type ClusterHost } from '@pinraft/cluster'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import {
  type StatelessConfiguration,
  StatelessTracker,
  type TrackerConsensus,
} from '@pinraft/pintracker'
import { type Logger, libraryLogger } from '../logging/logger.ts'

export interface PinningInit {
  /** The cluster's libp2p host (the one consensus uses). */
  readonly libp2p: ClusterHost
  readonly consensus: TrackerConsensus & ClusterConsensus
  /** Started already (embedded Helia or Kubo). */
  readonly connector: IpfsConnector
  readonly peername: string
  /** `pin_tracker.stateless`, parsed with `parseStatelessConfiguration`. */
  readonly stateless: StatelessConfiguration
  /** `cluster.state_sync_interval` and `cluster.pin_recover_interval`, in milliseconds. */
  readonly stateSyncInterval: number
  readonly pinRecoverInterval: number
  /** How long a peer has to answer a status call (the daemon passes consensus.raft.network_timeout). */
  readonly peerTimeout: number
  readonly logger: Logger
}

export interface Pinning {
  readonly tracker: StatelessTracker
  readonly cluster: Cluster
  /** The cluster component, then the tracker (the connector is the caller's to stop). */
  stop(): Promise<void>
}

/**
 * Builds and starts the tracker and the cluster component over consensus and the IPFS connector,
 * in NewCluster's order: the tracker follows consensus (and reconciles at once), then the cluster
 * serves `/pinraft/cluster/1.0.0`. Call it once consensus is created, before the HTTP API starts.
 */
export async function startPinning(init: PinningInit): Promise<Pinning> {
  const peerId = init.consensus.peerId
  const tracker = new StatelessTracker(
    {
      connector: init.connector,
      consensus: init.consensus,
      peerId,
      peername: init.peername,
      logger: libraryLogger(init.logger.child({ component: 'pintracker' })),
    },
    {
      configuration: init.stateless,
      stateSyncInterval: init.stateSyncInterval,
      pinRecoverInterval: init.pinRecoverInterval,
    },
  )
  await tracker.start()
  const cluster = new Cluster(
    {
      libp2p: init.libp2p,
      consensus: init.consensus,
      connector: init.connector,
      tracker,
      logger: libraryLogger(init.logger.child({ component: 'cluster' })),
    },
    {
      peername: init.peername,
      peerTimeout: init.peerTimeout,
      stateSyncInterval: init.stateSyncInterval,
    },
  )
  try {
    await cluster.start()
  } catch (error) {
    await tracker.stop()
    throw error
  }
  return {
    tracker,
    cluster,
    stop: async () => {
      await cluster.stop()
      await tracker.stop()
    },
  }
}
