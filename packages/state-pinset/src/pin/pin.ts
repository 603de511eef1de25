import type { CID } from 'multiformats/cid'

/** How IPFS pins the content: the whole DAG, or only the root block. */
export type PinMode = 'recursive' | 'direct'

/**
 * IPFS Cluster's pin types (`api.PinType`): a plain pin, or one of the three kinds of pins a
 * sharded add creates.
 */
export type PinType = 'pin' | 'meta-pin' | 'clusterdag-pin' | 'shard-pin'

export const pinTypes: readonly PinType[] = ['pin', 'meta-pin', 'clusterdag-pin', 'shard-pin']

/**
 * One pin of the pinset: IPFS Cluster 1.x's `api.Pin`, with camelCase names (the `state export`
 * JSON uses IPFS Cluster's snake_case ones). Every field is set; `validatePin` fills defaults.
 */
export interface Pin {
  readonly cid: CID
  readonly name: string
  /** Derived from `maxDepth`, as IPFS Cluster stores it: 0 is direct, anything else recursive. */
  readonly mode: PinMode
  readonly type: PinType
  /** Peer IDs (base58btc) the pin is allocated to. Empty when pinned everywhere. */
  readonly allocations: readonly string[]
  /** 0 = the cluster's default, -1 = everywhere (then `replicationFactorMax` is -1 too). */
  readonly replicationFactorMin: number
  /** 0 = the cluster's default, -1 = everywhere (then `replicationFactorMin` is -1 too). */
  readonly replicationFactorMax: number
  /** Peer IDs the user asked for, in the order asked. */
  readonly userAllocations: readonly string[]
  /** When the pin expires, in milliseconds since the Unix epoch; null for never. */
  readonly expireAt: number | null
  /** Sorted by key. */
  readonly metadata: Readonly<Record<string, string>>
  /** Multiaddresses the content can be fetched from. */
  readonly origins: readonly string[]
  /** Bytes per shard of a sharded add; 0 when not sharded. */
  readonly shardSize: number
  /** -1 = recursive, 0 = direct, 1 = a shard (the root and its direct children). */
  readonly maxDepth: number
  /** Meta ↔ cluster-DAG, or the previous shard; null for a plain pin. */
  readonly reference: CID | null
  /** When the pin was submitted, in milliseconds since the Unix epoch; null if unknown. */
  readonly timestamp: number | null
}

/** A time given as milliseconds since the epoch, a Date or an RFC 3339 string. */
export type TimeInput = number | Date | string

/** What `validatePin` accepts: a CID and any of the other fields (defaults fill the rest). */
export interface PinInput {
  readonly cid: CID | string | Uint8Array
  readonly name?: string
  readonly mode?: PinMode
  readonly type?: PinType
  readonly allocations?: readonly string[] | null
  readonly replicationFactorMin?: number
  readonly replicationFactorMax?: number
  readonly userAllocations?: readonly string[] | null
  readonly expireAt?: TimeInput | null
  readonly metadata?: Readonly<Record<string, string>> | null
  readonly origins?: readonly string[] | null
  readonly shardSize?: number
  readonly maxDepth?: number
  readonly reference?: CID | string | Uint8Array | null
  readonly timestamp?: TimeInput | null
}
