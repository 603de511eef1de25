import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { IdJson } from './id-json.ts'

/** 1.x's `api.RepoGC`: one peer's garbage collection, field for field. */
export interface RepoGcJson {
  peer: string
  peername: string
  /** `null` when nothing was removed (Go's nil slice). */
  keys: ({ key: string } | { key: null; error: string })[] | null
  error?: string
}

/** What the IPFS routes (`/add`, `/ipfs/gc`) and `/id` need from the running peer. */
export interface IpfsApiContext {
  readonly connector: IpfsConnector
  /** `/id`'s `ipfs` object for this peer. */
  id(): Promise<IdJson['ipfs']>
  /** Runs a GC on this peer's IPFS node. */
  localRepoGc(options?: { signal?: AbortSignal }): Promise<RepoGcJson>
  /** Asks another cluster peer to GC its IPFS node (over the cluster's libp2p). */
  remoteRepoGc(peerId: string, options?: { signal?: AbortSignal }): Promise<RepoGcJson>
  /** How long `/ipfs/gc` waits for each peer. */
  readonly repoGcTimeout: number
}
