/** IPFS Cluster 1.x's `ID` (`GET /id`, `GET /peers`). */
export interface PeerId {
  id: string
  addresses: string[]
  cluster_peers: string[]
  cluster_peers_addresses: string[]
  version: string
  commit: string
  rpc_protocol_version: string
  error: string
  ipfs: { id?: string; addresses: string[]; error: string }
  peername: string
}

/** `GET /raft/status` (pinraft's own route). */
export interface RaftStatus {
  peer: string
  peername: string
  role: 'leader' | 'voter' | 'staging' | 'non-voter' | 'none'
  raft_state: string
  leader: string
  term: number
  commit_index: number
  applied_index: number
  lag: number | null
  ready: boolean
  waiting_for: string
  last_error: string
  last_error_at: string
  replication: Record<string, { match: number; lag: number }>
  error: string
}

/** 1.x's per-peer `PinInfo` inside `peer_map`. */
export interface PinPeerInfo {
  peername: string
  ipfs_peer_id: string
  ipfs_peer_addresses?: string[]
  status: string
  timestamp: string
  error: string
  attempt_count?: number
  priority_pin?: boolean
}

/** 1.x's `GlobalPinInfo` (`GET /pins`, `GET /pins/{cid}`). */
export interface GlobalPinInfo {
  cid: string
  name: string
  allocations: string[] | null
  origins: string[] | null
  created: string
  metadata: Record<string, string> | null
  peer_map: Record<string, PinPeerInfo>
}

/** 1.x's `ConnectGraph` (`GET /health/graph`). */
export interface ConnectGraph {
  cluster_id: string
  id_to_peername: Record<string, string>
  ipfs_links: Record<string, string[]>
  cluster_links: Record<string, string[]>
  cluster_trust_links: Record<string, boolean>
  cluster_to_ipfs: Record<string, string>
}

/** 1.x's `Metric` (`GET /monitor/metrics/{name}`). */
export interface Metric {
  name: string
  peer: string
  value: string
  expire: number
  valid: boolean
  weight: number
  partitionable: boolean
  received_at: number
}

/** 1.x's `Alert` (`GET /health/alerts`): a Metric and when it triggered. */
export interface Alert extends Metric {
  triggered_at: string
}

/** 1.x's `AddedOutput` lines of `POST /add`. */
export interface AddedOutput {
  name: string
  cid: string | null
  size?: number
  bytes?: number
}

/** The statuses 1.x's tracker reports, in the order the page lists them. */
export const pinStatuses = [
  'pinned',
  'pinning',
  'pin_queued',
  'pin_error',
  'unpinning',
  'unpin_queued',
  'unpin_error',
  'unexpectedly_unpinned',
  'remote',
  'unpinned',
  'cluster_error',
] as const

/** The statuses `POST /pins/{cid}/recover` acts on. */
export const recoverableStatuses: readonly string[] = [
  'pin_error',
  'unexpectedly_unpinned',
  'unpin_error',
]
