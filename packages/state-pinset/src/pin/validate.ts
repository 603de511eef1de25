import type { CID } from 'multiformats/cid'
import { cidKey, parseCid, parseCidKey } from '../cid.ts'
import { compareCodePoints, isWellFormed } from '../encoding/bytes.ts'
import { InvalidPinError } from '../errors.ts'
import type { PinFields } from './fields.ts'
import { parsePeerId } from './peer-id.ts'
import type { Pin, PinInput, PinMode, PinType } from './pin.ts'
import { pinTypes } from './pin.ts'
import { timeFromInput } from './time.ts'

const int32Max = 2147483647

/**
 * The rules every stored pin keeps, checked on `PinFields` so the operation and snapshot
 * decoders apply exactly the rules `validatePin` does. Returns [field, message] or null.
 * Field names are the JSON ones of IPFS Cluster.
 */
export function pinRuleViolation(fields: PinFields): [string, string] | null {
  const { replicationFactorMin: min, replicationFactorMax: max } = fields
  if (!Number.isInteger(min) || min < -1 || min > int32Max) {
    return [
      'replication_factor_min',
      `must be an integer from -1 to ${int32Max} (0 = cluster default, -1 = everywhere), got ${min}`,
    ]
  }
  if (!Number.isInteger(max) || max < -1 || max > int32Max) {
    return [
      'replication_factor_max',
      `must be an integer from -1 to ${int32Max} (0 = cluster default, -1 = everywhere), got ${max}`,
    ]
  }
  if ((min === -1) !== (max === -1)) {
    return [
      'replication_factor_min',
      `and replication_factor_max must both be -1 to pin everywhere, got ${min} and ${max}`,
    ]
  }
  if (min > 0 && max > 0 && min > max) {
    return [
      'replication_factor_min',
      `(${min}) must not be larger than replication_factor_max (${max})`,
    ]
  }
  if (!Number.isInteger(fields.maxDepth) || fields.maxDepth < -1 || fields.maxDepth > int32Max) {
    return [
      'max_depth',
      `must be an integer from -1 (recursive) to ${int32Max}, got ${fields.maxDepth}`,
    ]
  }
  if (!Number.isSafeInteger(fields.shardSize) || fields.shardSize < 0) {
    return [
      'shard_size',
      `must be a whole number of bytes from 0 to 2^53-1, got ${fields.shardSize}`,
    ]
  }
  if (!isWellFormed(fields.name)) return ['name', 'must be valid Unicode (it has a lone surrogate)']
  for (const [key, value] of fields.metadata) {
    if (!isWellFormed(key) || !isWellFormed(value))
      return ['metadata', `must be valid Unicode (key ${JSON.stringify(key)})`]
  }
  for (const origin of fields.origins) {
    const problem = originProblem(origin)
    if (problem !== null) return ['origins', problem]
  }
  switch (pinTypes[fields.type]) {
    case 'pin':
      if (fields.reference !== null)
        return [
          'reference',
          'must be null for a pin of type "pin" (data pins reference no other pin)',
        ]
      break
    case 'shard-pin':
      if (fields.maxDepth !== 1)
        return [
          'max_depth',
          `must be 1 for a shard-pin (the shard root and its direct children), got ${fields.maxDepth}`,
        ]
      break
    case 'clusterdag-pin':
      if (fields.maxDepth !== 0)
        return [
          'max_depth',
          `must be 0 for a clusterdag-pin (pinned directly), got ${fields.maxDepth}`,
        ]
      if (fields.reference === null)
        return ['reference', 'must be set for a clusterdag-pin (it references its meta-pin)']
      break
    case 'meta-pin':
      if (fields.allocations.length !== 0) return ['allocations', 'must be empty for a meta-pin']
      if (fields.reference === null)
        return ['reference', 'must be set for a meta-pin (it references its clusterdag-pin)']
      break
    default:
      return ['type', `must be one of ${pinTypes.join(', ')}`]
  }
  return null
}

function originProblem(origin: string): string | null {
  if (!origin.startsWith('/') || origin.length < 2 || /\s/.test(origin) || !isWellFormed(origin)) {
    return `must be multiaddresses like "/ip4/1.2.3.4/tcp/4001/p2p/12D3Koo…", got ${JSON.stringify(origin)}`
  }
  return null
}

function fail(field: string, message: string): never {
  throw new InvalidPinError(field, message)
}

function pinCid(field: string, input: unknown): CID {
  try {
    return parseCid(input)
  } catch (error) {
    return fail(field, `is not a valid CID: ${(error as Error).message}`)
  }
}

function pinCidKey(field: string, input: unknown): string {
  try {
    return parseCidKey(input)
  } catch (error) {
    return fail(field, `is not a valid CID: ${(error as Error).message}`)
  }
}

function peerList(field: string, input: unknown): string[] {
  if (input === undefined || input === null) return []
  if (!Array.isArray(input)) fail(field, 'must be an array of peer IDs')
  return input.map((entry, position) => {
    const peer = parsePeerId(entry)
    if (typeof peer !== 'string') fail(field, `[${position}] ${peer.error}`)
    return peer
  })
}

function stringList(field: string, input: unknown): string[] {
  if (input === undefined || input === null) return []
  if (!Array.isArray(input)) fail(field, 'must be an array of strings')
  return input.map((entry, position) => {
    if (typeof entry !== 'string') fail(field, `[${position}] must be a string`)
    return entry
  })
}

function integer(field: string, input: unknown, fallback: number): number {
  if (input === undefined) return fallback
  if (typeof input !== 'number' || !Number.isInteger(input))
    fail(field, `must be an integer, got ${JSON.stringify(input)}`)
  return input
}

function time(field: string, input: unknown): number | null {
  const value = timeFromInput(input)
  if (value !== null && typeof value === 'object') fail(field, value.error)
  return value
}

function metadataEntries(input: unknown): [string, string][] {
  if (input === undefined || input === null) return []
  if (typeof input !== 'object' || Array.isArray(input))
    fail('metadata', 'must be an object of string values')
  const entries = Object.entries(input as Record<string, unknown>)
  for (const [key, value] of entries) {
    if (typeof value !== 'string')
      fail('metadata', `value of ${JSON.stringify(key)} must be a string`)
  }
  return (entries as [string, string][]).sort((a, b) => compareCodePoints(a[0], b[0]))
}

/** A validated pin's fields and its CID object (kept to avoid decoding it again). */
export interface ValidatedPin {
  readonly fields: PinFields
  readonly cid: CID
  readonly reference: CID | null
}

/** Validates and normalises a pin input into fields; see `validatePin`. */
export function validatePinFields(input: PinInput): ValidatedPin {
  let cid: CID | undefined
  let reference: CID | null = null
  const fields = checkedFields(
    input,
    (value) => {
      cid = pinCid('cid', value)
      return cidKey(cid)
    },
    (value) => {
      reference = pinCid('reference', value)
      return cidKey(reference)
    },
  )
  return { fields, cid: cid!, reference }
}

/**
 * As `validatePinFields`, for callers that need only the fields (encoding an operation, a bulk
 * load): the usual CID text becomes its key without a CID object.
 */
export function validatePinRecordFields(input: PinInput): PinFields {
  return checkedFields(
    input,
    (value) => pinCidKey('cid', value),
    (value) => pinCidKey('reference', value),
  )
}

/** The checks of a pin input, in field order (the first bad field is the one reported). */
function checkedFields(
  input: PinInput,
  cidKeyOf: (value: unknown) => string,
  referenceKeyOf: (value: unknown) => string,
): PinFields {
  if (input === null || typeof input !== 'object')
    fail('pin', 'must be an object with at least a cid')
  const key = cidKeyOf(input.cid)
  const type: PinType = input.type ?? 'pin'
  if (!pinTypes.includes(type))
    fail('type', `must be one of ${pinTypes.join(', ')}, got ${JSON.stringify(type)}`)
  const mode: PinMode | undefined = input.mode
  if (mode !== undefined && mode !== 'recursive' && mode !== 'direct') {
    fail('mode', `must be "recursive" or "direct", got ${JSON.stringify(mode)}`)
  }
  const maxDepth = integer('max_depth', input.maxDepth, mode === 'direct' ? 0 : -1)
  if (mode !== undefined && (mode === 'direct') !== (maxDepth === 0)) {
    fail(
      'mode',
      `"${mode}" contradicts max_depth ${maxDepth} (direct is max_depth 0, recursive any other depth)`,
    )
  }
  const name = input.name ?? ''
  if (typeof name !== 'string') fail('name', 'must be a string')
  const reference =
    input.reference === undefined || input.reference === null
      ? null
      : referenceKeyOf(input.reference)
  const fields: PinFields = {
    cid: key,
    type: pinTypes.indexOf(type) as PinFields['type'],
    name,
    allocations: peerList('allocations', input.allocations),
    userAllocations: peerList('user_allocations', input.userAllocations),
    replicationFactorMin: integer('replication_factor_min', input.replicationFactorMin, 0),
    replicationFactorMax: integer('replication_factor_max', input.replicationFactorMax, 0),
    maxDepth,
    shardSize: integer('shard_size', input.shardSize, 0),
    expireAt: time('expire_at', input.expireAt),
    metadata: metadataEntries(input.metadata),
    origins: stringList('origins', input.origins),
    reference,
    timestamp: time('timestamp', input.timestamp),
  }
  const violation = pinRuleViolation(fields)
  if (violation !== null) fail(violation[0], violation[1])
  return fields
}

/**
 * Validates a pin and fills its defaults (type "pin", recursive, replication factors 0 = cluster
 * default, no expiry). Throws `InvalidPinError` naming the field for anything IPFS Cluster would
 * refuse to store.
 */
export function validatePin(input: PinInput): Pin {
  const { fields, cid, reference } = validatePinFields(input)
  return {
    cid,
    name: fields.name,
    mode: fields.maxDepth === 0 ? 'direct' : 'recursive',
    type: pinTypes[fields.type]!,
    allocations: fields.allocations,
    replicationFactorMin: fields.replicationFactorMin,
    replicationFactorMax: fields.replicationFactorMax,
    userAllocations: fields.userAllocations,
    expireAt: fields.expireAt,
    metadata: Object.fromEntries(fields.metadata),
    origins: fields.origins,
    shardSize: fields.shardSize,
    maxDepth: fields.maxDepth,
    reference,
    timestamp: fields.timestamp,
  }
}
