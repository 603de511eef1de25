import type { Alert, Metric } from '@pinraft/allocation'
import type { AbortOptions } from '@pinraft/consensus'
import type { CID } from 'multiformats/cid'

/**
 * 1.x's api.ConnectGraph: who is connected to whom, as `GET /health/graph` returns it and
 * `health graph` draws it. Keys and values are peer IDs as strings.
 */
export interface ConnectGraph {
  /** The peer that built the graph. */
  readonly clusterId: string
  /** Cluster peer ID → peername. */
  readonly idToPeername: Readonly<Record<string, string>>
  /** IPFS peer ID → the IPFS peer IDs it is connected to (its swarm peers, as 1.x). */
  readonly ipfsLinks: Readonly<Record<string, readonly string[]>>
  /** Cluster peer ID → the cluster peer IDs it is connected to. */
  readonly clusterLinks: Readonly<Record<string, readonly string[]>>
  /** Cluster peer ID → whether it is trusted (in Raft, every member is). */
  readonly clusterTrustLinks: Readonly<Record<string, boolean>>
  /** Cluster peer ID → the IPFS peer ID of its node. */
  readonly clusterToIpfs: Readonly<Record<string, string>>
}

/** 1.x's api.Bandwidth (libp2p metrics per protocol): totals in bytes, rates in bytes/s. */
export interface Bandwidth {
  readonly totalIn: number
  readonly totalOut: number
  readonly rateIn: number
  readonly rateOut: number
}

/** 1.x's api.BandwidthByProtocol: protocol ID → its bandwidth. */
export type BandwidthByProtocol = Readonly<Record<string, Bandwidth>>

/** Options of a pin that the cluster uses instead of storing (1.x's PinOptions.PinUpdate). */
export interface ClusterPinOptions extends AbortOptions {
  /**
   * `pin-update`: pin the new CID with the options of this pin (allocations, replication,
   * metadata; the name and a later expiry when given). As 1.x's PinUpdate, this pin is not
   * unpinned (ipfs-cluster-ctl: "run pin rm for that").
   */
  readonly pinUpdate?: CID | string
}

/**
 * What the HTTP API and the CLI's routes need from the Cluster for monitoring and health
 * (1.x's PeerMonitorMetricNames, PeerMonitorLatestMetrics, Alerts, ConnectGraph,
 * BandwidthByProtocol).
 */
export interface ClusterHealth {
  /** The metric names this peer's monitor knows, sorted. */
  metricNames(options?: AbortOptions): Promise<string[]>
  /** The latest valid metric of `name` from every peer, sorted by peer. */
  latestMetrics(name: string, options?: AbortOptions): Promise<Metric[]>
  /** The alerts raised recently, the most recent first (as 1.x's Alerts). */
  alerts(options?: AbortOptions): Promise<Alert[]>
  /** Asks every peer for its links and builds the graph; unreachable peers have no links. */
  connectGraph(options?: AbortOptions): Promise<ConnectGraph>
  /** This peer's libp2p traffic per protocol. */
  bandwidthByProtocol(options?: AbortOptions): Promise<BandwidthByProtocol>
}
