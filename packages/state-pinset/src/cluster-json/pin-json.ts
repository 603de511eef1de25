import type { CID } from 'multiformats/cid'
import { cidText } from '../cid.ts'
import { InvalidPinError } from '../errors.ts'
import type { Pin, PinInput, PinMode, PinType } from '../pin/pin.ts'
import { pinTypes } from '../pin/pin.ts'
import { formatTime } from '../pin/time.ts'
import { validatePin } from '../pin/validate.ts'

/**
 * IPFS Cluster's JSON for a pin, as `ipfs-cluster-service state export` writes it (Go's
 * encoding/json of `api.Pin`, one object per line): fields in Go's order (the embedded
 * PinOptions first), `cid` and `reference` as CID strings, `type` as "pin" / "meta-pin" /
 * "clusterdag-pin" / "shard-pin", times in RFC 3339 with Go's zero time for unset.
 */

/** Go's encoder escapes these inside strings (HTML safety); matching it keeps lines byte-identical. */
function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function goStrings(values: readonly string[]): string {
  return `[${values.map(goString).join(',')}]`
}

/** One pin as a line of `state export` JSON (without the newline). */
export function pinToClusterJson(pin: Pin): string {
  const metadataKeys = Object.keys(pin.metadata)
  const metadata =
    metadataKeys.length === 0
      ? 'null'
      : `{${metadataKeys.map((key) => `${goString(key)}:${goString(pin.metadata[key]!)}`).join(',')}}`
  return (
    `{"replication_factor_min":${pin.replicationFactorMin}` +
    `,"replication_factor_max":${pin.replicationFactorMax}` +
    `,"name":${goString(pin.name)}` +
    `,"mode":"${pin.mode}"` +
    `,"shard_size":${pin.shardSize}` +
    `,"user_allocations":${pin.userAllocations.length === 0 ? 'null' : goStrings(pin.userAllocations)}` +
    `,"expire_at":"${formatTime(pin.expireAt)}"` +
    `,"metadata":${metadata}` +
    `,"pin_update":null` +
    `,"origins":${goStrings(pin.origins)}` +
    `,"cid":"${cidText(pin.cid)}"` +
    `,"type":"${pin.type}"` +
    `,"allocations":${goStrings(pin.allocations)}` +
    `,"max_depth":${pin.maxDepth}` +
    `,"reference":${pin.reference === null ? 'null' : `"${cidText(pin.reference)}"`}` +
    `,"timestamp":"${formatTime(pin.timestamp)}"}`
  )
}

/** IPFS Cluster before 1.0 wrote pin types as their bit values. */
const legacyTypeNumbers: Record<number, PinType> = {
  2: 'pin',
  4: 'meta-pin',
  8: 'clusterdag-pin',
  16: 'shard-pin',
}

function fail(field: string, message: string): never {
  throw new InvalidPinError(field, message)
}

/** A CID as 1.x writes it (a string) or as 0.x did (`{"/": "…"}`). */
function jsonCid(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (typeof value === 'object' && !Array.isArray(value)) {
    const link = (value as Record<string, unknown>)['/']
    if (typeof link === 'string' && Object.keys(value).length === 1) return link
  }
  return fail(field, `must be a CID string (or {"/": "<cid>"}), got ${JSON.stringify(value)}`)
}

function optional<T>(
  field: string,
  value: unknown,
  kind: string,
  check: (value: unknown) => value is T,
): T | undefined {
  if (value === undefined || value === null) return undefined
  if (!check(value)) fail(field, `must be ${kind}, got ${JSON.stringify(value)}`)
  return value
}

const isString = (value: unknown): value is string => typeof value === 'string'
const isNumber = (value: unknown): value is number => typeof value === 'number'
const isArray = (value: unknown): value is unknown[] => Array.isArray(value)
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Reads a pin from IPFS Cluster's JSON (a parsed object): the 1.x form, or the 0.x one with
 * numeric types and `{"/": …}` CIDs. Missing fields take IPFS Cluster's defaults, except that a
 * missing `type` means "pin" and a missing `max_depth` follows `mode` (IPFS Cluster would store
 * a broken pin there). Unknown fields are ignored, as Go does. Throws `InvalidPinError`.
 */
export function pinFromClusterJson(value: unknown): Pin {
  return validatePin(pinInputFromClusterJson(value))
}

/** As `pinFromClusterJson`, before validation: `validatePin` (or a bulk load) checks the rest. */
export function pinInputFromClusterJson(value: unknown): PinInput {
  if (!isObject(value))
    fail('pin', `must be a JSON object, got ${JSON.stringify(value)?.slice(0, 40)}`)
  const cid = jsonCid('cid', value['cid'])
  if (cid === undefined) fail('cid', 'is missing')
  let type: PinType | undefined
  const rawType = value['type']
  if (typeof rawType === 'number' && legacyTypeNumbers[rawType] !== undefined)
    type = legacyTypeNumbers[rawType]
  else if (typeof rawType === 'string' && (pinTypes as readonly string[]).includes(rawType))
    type = rawType as PinType
  else if (rawType !== undefined && rawType !== null) {
    fail(
      'type',
      `must be one of ${pinTypes.map((name) => `"${name}"`).join(', ')}, got ${JSON.stringify(rawType)}`,
    )
  }
  const rawMode = optional('mode', value['mode'], 'a string', isString)
  let mode: PinMode | undefined
  if (rawMode === 'recursive' || rawMode === 'direct') mode = rawMode
  else if (rawMode !== undefined && rawMode !== '')
    fail('mode', `must be "recursive" or "direct", got ${JSON.stringify(rawMode)}`)
  const pinUpdate = jsonCid('pin_update', value['pin_update'])
  // pin_update only steers a pin request; IPFS Cluster keeps it in its state by accident. It is
  // checked, then dropped.
  if (pinUpdate !== undefined) validatePin({ cid: pinUpdate })
  const metadata = optional('metadata', value['metadata'], 'an object of strings', isObject)
  const input: PinInput = {
    cid,
    name: optional('name', value['name'], 'a string', isString),
    mode,
    type,
    allocations: optional('allocations', value['allocations'], 'an array of peer IDs', isArray) as
      | string[]
      | undefined,
    replicationFactorMin: optional(
      'replication_factor_min',
      value['replication_factor_min'],
      'a number',
      isNumber,
    ),
    replicationFactorMax: optional(
      'replication_factor_max',
      value['replication_factor_max'],
      'a number',
      isNumber,
    ),
    userAllocations: optional(
      'user_allocations',
      value['user_allocations'],
      'an array of peer IDs',
      isArray,
    ) as string[] | undefined,
    expireAt: optional('expire_at', value['expire_at'], 'an RFC 3339 time string', isString),
    metadata: metadata as Record<string, string> | undefined,
    origins: optional('origins', value['origins'], 'an array of multiaddresses', isArray) as
      | string[]
      | undefined,
    shardSize: optional('shard_size', value['shard_size'], 'a number', isNumber),
    maxDepth: optional('max_depth', value['max_depth'], 'a number', isNumber),
    reference: jsonCid('reference', value['reference']) as string | CID | undefined,
    timestamp: optional('timestamp', value['timestamp'], 'an RFC 3339 time string', isString),
  }
  return input
}
