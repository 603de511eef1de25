import type { BalancedAllocator, Monitor } from '@pinraft/allocation'
import type { AbortOptions, Consensus } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { StatelessTracker, StatusFilter } from '@pinraft/pintracker'
import type { Clock, Logger } from '@pinraft/raft-core'
import type { BandwidthByProtocol } from './health.ts'
import type { ClusterHost } from './rpc/cluster-protocol.ts'

/**
 * What the cluster needs from consensus. `rmPeer` (for `peerRemove`) and `status` (to know
 * whether this peer leads, for repinning) are optional so that tests of status alone can use a
 * smaller double; the daemon passes the real consensus.
 */
export type ClusterConsensus = Pick<
  Consensus,
  'peerId' | 'state' | 'peers' | 'logPin' | 'logUnpin'
> &
  Partial<Pick<Consensus, 'rmPeer' | 'status'>>

/** What the cluster needs from the monitor (1.x's PeerMonitor). */
export type ClusterMonitor = Pick<
  Monitor,
  'latestMetrics' | 'metricNames' | 'alerts' | 'addEventListener' | 'removeEventListener'
>

/** libp2p's traffic per protocol, where the host's metrics provide it. */
export interface BandwidthSource {
  byProtocol(): BandwidthByProtocol
}

/** What the cluster needs from the tracker (the stateless tracker has it all). */
export type ClusterTracker = Pick<
  StatelessTracker,
  'status' | 'statusAll' | 'recover' | 'recoverAll'
>

export interface ClusterComponents {
  /** The cluster's libp2p host (the one Raft uses). */
  readonly libp2p: ClusterHost
  readonly consensus: ClusterConsensus
  readonly connector: IpfsConnector
  readonly tracker: ClusterTracker
  /** 1.x's PeerMonitor: metrics to allocate with and ping alerts to repin on. */
  readonly monitor?: ClusterMonitor
  /** 1.x's PinAllocator. Without it (or the monitor) pins have no allocations (everywhere). */
  readonly allocator?: BalancedAllocator
  /** libp2p's bandwidth per protocol (`bandwidthByProtocol`), when the host measures it. */
  readonly bandwidth?: BandwidthSource
  readonly logger?: Logger
  readonly clock?: Clock
}

export interface ClusterInit {
  readonly peername?: string
  /** How long a peer has to answer for one CID (1.x: 15s). */
  readonly peerTimeout?: number
  /** How long a peer may take between two frames of a streamed answer. */
  readonly streamFrameTimeout?: number
  /** `cluster.state_sync_interval` (ms): unpin expired pins this often; 0 or unset: never. */
  readonly stateSyncInterval?: number
  /**
   * `cluster.replication_factor_min` / `max`: what a pin's 0 means (1.x's setupReplicationFactor).
   * -1 (everywhere) when unset.
   */
  readonly replicationFactorMin?: number
  readonly replicationFactorMax?: number
  /** `cluster.disable_repinning` (1.x's default: true): no re-allocation on alerts or peer removal. */
  readonly disableRepinning?: boolean
  /** How many re-allocations are committed at once when a peer is lost or removed. */
  readonly repinConcurrency?: number
  /** How long an alert waits for a leader to be known before it is dropped (ms). */
  readonly leaderWaitTimeout?: number
}

export interface ClusterStatusAllOptions extends AbortOptions {
  readonly filter?: StatusFilter
}
