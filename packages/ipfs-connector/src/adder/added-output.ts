import type { CID } from 'multiformats/cid'

/**
 * One line of IPFS Cluster 1.x's `/add` output (`api.AddedOutput`): a file or directory that was
 * added (`cid` and `size`, the DAG's cumulative size), or a progress entry (`bytes` read so far
 * of `name`, no CID). The service adds `allocations`.
 */
export interface AddedOutput {
  readonly name: string
  readonly cid?: CID
  readonly bytes?: number
  readonly size?: number
}

/** The writer the adder puts blocks through: an IPFS connector's `blockPut`. */
export interface BlockWriter {
  blockPut(cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<void>
}

/** What the adder reads: a directory, or a file whose bytes arrive as a stream. */
export type AddEntry =
  | { readonly path: string; readonly content: AsyncIterable<Uint8Array> }
  | { readonly path: string; readonly directory: true }
