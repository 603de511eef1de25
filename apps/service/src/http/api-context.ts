import type { ClusterHealth, ClusterPinOptions } from '@pinraft/cluster'
import type { AbortOptions, Consensus } from '@pinraft/consensus'
import type { Pin, PinInput } from '@pinraft/state-pinset'
import type { Logger } from '../logging/logger.ts'
import type { CorsOptions } from './cors.ts'
import type { IdJson } from './id-json.ts'
import type { IpfsApiContext } from './ipfs-context.ts'
import type { LastErrorRecorder } from './last-error.ts'
import type { RaftStatusJson } from './raft-status-json.ts'
import type { StatusCluster } from './routes/pin-status.ts'

/**
 * What `POST /pins…` and `DELETE /peers/{id}` need from the Cluster component: 1.x's Cluster.Pin
 * (allocates, honours `pin-update`) and Cluster.PeerRemove (moves the peer's pins first).
 */
export interface PinningCluster {
  pin(input: PinInput, options?: ClusterPinOptions): Promise<Pin>
  peerRemove(peer: string, options?: AbortOptions): Promise<void>
}

/** The Cluster component as the API uses it. */
export type ApiCluster = StatusCluster & PinningCluster

/**
 * What the HTTP API needs from the running peer. The daemon builds it from libp2p and
 * consensus; route tests hand in an in-memory consensus.
 */
export interface ApiContext {
  readonly consensus: Consensus
  readonly peername: string
  readonly version: string
  /** This peer's libp2p addresses, each ending in `/p2p/<id>`. */
  addresses(): string[]
  /** The addresses this peer knows for another peer, each ending in `/p2p/<id>`. */
  peerAddresses(peerId: string): Promise<string[]>
  /** Another peer's ID as that peer reports it (over libp2p); rejects when it cannot be asked. */
  remoteId(peerId: string, options?: AbortOptions): Promise<IdJson>
  /** Applied to pins submitted with a replication factor of 0 (IPFS Cluster's behaviour). */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  /** How long `/peers` waits for each peer's ID. */
  readonly peerTimeout: number
  /** Clock for `expire-in` and pin timestamps (milliseconds since the epoch). */
  now(): number
  readonly logger: Logger
  /** This peer's IPFS node, for `/add`, `/ipfs/gc` and `/id`'s `ipfs` (absent in route tests). */
  readonly ipfs?: IpfsApiContext
  /**
   * The cluster component (pin tracker status and recover across peers, allocation), for
   * `GET /pins…`, `POST /pins/…/recover`, `POST /pins…` and `DELETE /peers/{id}`; absent in route
   * tests that do not need it (pins then go straight to consensus, unallocated).
   */
  readonly cluster?: ApiCluster
  /**
   * The monitor and health views (`GET /monitor/metrics…`, `GET /health/{alerts,graph,bandwidth}`);
   * those routes exist only when it is given. The daemon passes its Cluster.
   */
  readonly health?: ClusterHealth
  /** Another peer's `GET /raft/status` (over libp2p), for `?all=true`; absent in route tests. */
  remoteRaftStatus?(peerId: string, options?: AbortOptions): Promise<RaftStatusJson>
  /** Where the API's error handler keeps the last 5xx it answered (`/raft/status`'s `last_error`). */
  readonly lastError?: LastErrorRecorder
}

/** The options of the API that come from `api.restapi`. */
export interface ApiOptions {
  readonly basicAuthCredentials?: Readonly<Record<string, string>> | null
  readonly headers?: Readonly<Record<string, readonly string[]>>
  /** IPFS Cluster 1.x's CORS keys; its defaults when omitted. */
  readonly cors?: CorsOptions
}
