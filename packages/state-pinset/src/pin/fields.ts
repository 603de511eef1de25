import type { CID } from 'multiformats/cid'
import { cidFromKey, cidKey } from '../cid.ts'
import type { Pin, PinType } from './pin.ts'
import { pinTypes } from './pin.ts'

/** Type codes in records and operations: the index in `pinTypes`. */
export type PinTypeCode = 0 | 1 | 2 | 3

/**
 * A validated pin as the state keeps it: CIDs as binary keys (no CID objects on the apply path),
 * metadata as entries sorted by key, and no `mode` (it is derived from `maxDepth`).
 */
export interface PinFields {
  cid: string
  type: PinTypeCode
  name: string
  allocations: string[]
  userAllocations: string[]
  replicationFactorMin: number
  replicationFactorMax: number
  maxDepth: number
  shardSize: number
  expireAt: number | null
  metadata: [string, string][]
  origins: string[]
  reference: string | null
  timestamp: number | null
}

export function typeCode(type: PinType): PinTypeCode {
  return pinTypes.indexOf(type) as PinTypeCode
}

export function pinToFields(pin: Pin): PinFields {
  return {
    cid: cidKey(pin.cid),
    type: typeCode(pin.type),
    name: pin.name,
    allocations: [...pin.allocations],
    userAllocations: [...pin.userAllocations],
    replicationFactorMin: pin.replicationFactorMin,
    replicationFactorMax: pin.replicationFactorMax,
    maxDepth: pin.maxDepth,
    shardSize: pin.shardSize,
    expireAt: pin.expireAt,
    metadata: Object.entries(pin.metadata),
    origins: [...pin.origins],
    reference: pin.reference === null ? null : cidKey(pin.reference),
    timestamp: pin.timestamp,
  }
}

export function fieldsToPin(fields: PinFields, cid?: CID): Pin {
  return {
    cid: cid ?? cidFromKey(fields.cid),
    name: fields.name,
    mode: fields.maxDepth === 0 ? 'direct' : 'recursive',
    type: pinTypes[fields.type]!,
    allocations: fields.allocations,
    replicationFactorMin: fields.replicationFactorMin,
    replicationFactorMax: fields.replicationFactorMax,
    userAllocations: fields.userAllocations,
    expireAt: fields.expireAt,
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    metadata: Object.fromEntries(fields.metadata),
    origins: fields.origins,
    shardSize: fields.shardSize,
    maxDepth: fields.maxDepth,
    reference: fields.reference === null ? null : cidFromKey(fields.reference),
    timestamp: fields.timestamp,
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  if (a.length === 0) return true
  if (a.length === 1) return a[0] === b[0]
  const left = [...a].sort()
  const right = [...b].sort()
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) return false
  return true
}

/**
 * True when re-pinning `next` over `current` changes nothing: IPFS Cluster's `Pin.Equals`, which
 * ignores the timestamp and the order of allocations and origins.
 */
export function equivalentPins(current: PinFields, next: PinFields): boolean {
  if (
    current.cid !== next.cid ||
    current.type !== next.type ||
    current.name !== next.name ||
    current.maxDepth !== next.maxDepth ||
    current.replicationFactorMin !== next.replicationFactorMin ||
    current.replicationFactorMax !== next.replicationFactorMax ||
    current.shardSize !== next.shardSize ||
    current.expireAt !== next.expireAt ||
    current.reference !== next.reference ||
    current.metadata.length !== next.metadata.length
  ) {
    return false
  }
  for (let i = 0; i < current.metadata.length; i++) {
    const [key, value] = current.metadata[i]!
    const [otherKey, otherValue] = next.metadata[i]!
    if (key !== otherKey || value !== otherValue) return false
  }
  return (
    sameSet(current.allocations, next.allocations) &&
    sameSet(current.userAllocations, next.userAllocations) &&
    sameSet(current.origins, next.origins)
  )
}
