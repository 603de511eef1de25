import type { CID } from 'multiformats/cid'

/** Cancellation for every asynchronous call (js-libp2p's AbortOptions). */
export interface AbortOptions {
  signal?: AbortSignal
}

/** IPFS Cluster's pin modes: the whole DAG, or the root block only. */
export type PinMode = 'recursive' | 'direct'

/** How the IPFS node holds a CID (IPFS Cluster's `IPFSPinStatus`). */
export type IpfsPinType = 'recursive' | 'direct' | 'indirect' | 'unpinned'

/** The IPFS node's identity, as `/id`'s `ipfs` object carries it. */
export interface IpfsId {
  /** The IPFS node's peer ID (not the cluster peer's). */
  readonly id: string
  /** Its listen addresses, each ending in `/p2p/<id>`. */
  readonly addresses: readonly string[]
}

export interface IpfsPinProgress {
  /** Blocks fetched or found so far for this pin. */
  readonly blocks: number
}

export interface IpfsPinOptions extends AbortOptions {
  readonly mode?: PinMode
  /** For recursive pins: how deep to pin (-1, the default, is the whole DAG). */
  readonly maxDepth?: number
  /** Multiaddresses of IPFS nodes known to hold the content: connected to before pinning. */
  readonly origins?: readonly string[]
  readonly onProgress?: (progress: IpfsPinProgress) => void
}

export interface IpfsPinEntry {
  readonly cid: CID
  readonly type: Exclude<IpfsPinType, 'unpinned' | 'indirect'>
}

export interface IpfsPinLsOptions extends AbortOptions {
  /** Which pins to list (default: `recursive`, as IPFS Cluster's tracker asks). */
  readonly type?: 'recursive' | 'direct' | 'all'
}

export interface IpfsRepoStat {
  /** Bytes the repository uses. */
  readonly repoSize: number
  /** The configured storage maximum in bytes (the `freespace` informer subtracts repoSize). */
  readonly storageMax: number
}

/** One entry of a garbage collection: a removed block, or an error for one. */
export type IpfsRepoGcEntry = { readonly cid: CID } | { readonly error: string }

export interface IpfsBlockPutOptions extends AbortOptions {
  /** Pin the block directly as it is written (never set by the adder: the cluster pins). */
  readonly pin?: boolean
}

/**
 * IPFS Cluster's IPFSConnector (`ipfscluster.go`): the cluster's view of one peer's IPFS node.
 * Implementations: the embedded Helia node (the default) and Kubo over its RPC API.
 *
 * Every call takes an AbortSignal; a call that fails rejects with an error whose `name` is
 * stable (see `errors.ts`) and whose message says what was wrong and what to do.
 */
export interface IpfsConnector {
  start(): Promise<void>
  /** Stops the node (embedded) or closes the client (Kubo). Idempotent. */
  stop(): Promise<void>
  id(options?: AbortOptions): Promise<IpfsId>
  /** Resolves once the whole DAG (recursive) or the root block (direct) is stored and pinned. */
  pin(cid: CID, options?: IpfsPinOptions): Promise<void>
  /** Unpinning a CID that is not pinned is not an error. */
  unpin(cid: CID, options?: AbortOptions): Promise<void>
  pinLsCid(cid: CID, options?: AbortOptions): Promise<IpfsPinType>
  /** The node's pins, streamed. */
  pinLs(options?: IpfsPinLsOptions): AsyncIterable<IpfsPinEntry>
  /** Connects to these IPFS nodes (multiaddresses ending in `/p2p/<id>`); failures are skipped. */
  connectSwarms(addresses: readonly string[], options?: AbortOptions): Promise<void>
  /** Peer IDs of the IPFS nodes this one is connected to. */
  swarmPeers(options?: AbortOptions): Promise<string[]>
  repoStat(options?: AbortOptions): Promise<IpfsRepoStat>
  /** Garbage-collects unpinned blocks, streaming what was removed. */
  repoGc(options?: AbortOptions): AsyncIterable<IpfsRepoGcEntry>
  /** Resolves `/ipfs/<cid>/a/b`, `/ipns/<name>/…` or `/ipld/…` to the CID it names. */
  resolve(path: string, options?: AbortOptions): Promise<CID>
  /** Writes a block under `cid` (the adder's output); the bytes must hash to `cid`. */
  blockPut(cid: CID, bytes: Uint8Array, options?: IpfsBlockPutOptions): Promise<void>
  /** Reads a block, fetching it from the network if the node does not hold it. */
  blockGet(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** Whether the node holds the block locally (never fetches). */
  blockHas(cid: CID, options?: AbortOptions): Promise<boolean>
}
