import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { checkReplicationFactors, PinOptionsError } from '@pinraft/cluster'
import { parseGoDuration } from '@pinraft/consensus'
import type { PinInput } from '@pinraft/state-pinset'
import { parseCid } from '@pinraft/state-pinset'
import { InvalidParameterError } from '../errors.ts'

/** The query of `POST /pins/{cid}` after schema validation (every value a string). */
export interface PinQuery {
  name?: string
  mode?: string
  replication?: string
  'replication-min'?: string
  'replication-max'?: string
  'shard-size'?: string
  'expire-at'?: string
  'expire-in'?: string
  'user-allocations'?: string
  'pin-update'?: string
  origins?: string
  [parameter: string]: string | number | undefined
}

/** A pin request: the pin to submit, and the pin it replaces (`pin-update`), if any. */
export interface PinRequest {
  readonly input: PinInput
  /** `pin-update=<cid>`: the existing pin whose options and allocations the new one takes. */
  readonly pinUpdate: string | undefined
}

export interface PinRequestDefaults {
  /** `cluster.replication_factor_min`/`max`: what a factor of 0 (or none) becomes. */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  /** Milliseconds since the epoch: the pin's timestamp and the base of `expire-in`. */
  readonly now: number
}

const metaPrefix = 'meta-'

/** Go's strconv.Atoi on a decimal integer (an optional sign, digits only). */
const goInteger = /^[+-]?\d+$/

/** 1.x's parseIntParam: absent or empty is 0; anything but an integer is "parameter … invalid". */
function integerParameter(query: PinQuery, name: string, override?: string): number {
  const text = override ?? query[name]
  if (text === undefined || text === '') return 0
  const value = String(text)
  const parsed = goInteger.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(parsed)) {
    throw new InvalidParameterError(
      `parameter ${name} invalid: ${JSON.stringify(value)} is not an integer (-1: everywhere, 0: the cluster's default, or a number of peers)`,
    )
  }
  return parsed
}

/** 1.x: `shard-size` is an unsigned integer of bytes. */
function shardSize(query: PinQuery): number {
  const text = query['shard-size']
  if (text === undefined || text === '') return 0
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value))
    throw new InvalidParameterError(
      `parameter shard_size is invalid: ${JSON.stringify(text)} is not a whole number of bytes`,
    )
  return value
}

/**
 * `user-allocations`: peer IDs separated by commas. 1.x drops the entries that are not peer IDs
 * without a word; a typo then silently places the pin elsewhere, so pinraft refuses them.
 */
function userAllocations(query: PinQuery): string[] {
  const text = query['user-allocations']
  if (text === undefined || text === '') return []
  const peers: string[] = []
  for (const entry of text.split(',')) {
    const peer = entry.trim()
    if (peer === '') continue
    try {
      peers.push(peerIdFromString(peer).toString())
    } catch {
      throw new InvalidParameterError(
        `user-allocations: ${JSON.stringify(peer)} is not a peer ID; give cluster peer IDs such as 12D3KooW… separated by commas (see \`pinraft peers ls\`)`,
      )
    }
  }
  return peers
}

/** 1.x: `origins` are multiaddresses separated by commas, each ending in `/p2p/<peer ID>`. */
function origins(query: PinQuery): string[] {
  const text = query.origins
  if (text === undefined || text === '') return []
  return text.split(',').map((entry) => {
    let address: ReturnType<typeof multiaddr>
    try {
      address = multiaddr(entry)
    } catch (error) {
      throw new InvalidParameterError(
        `error decoding multiaddress: ${JSON.stringify(entry)}: ${(error as Error).message}`,
      )
    }
    if (!address.getComponents().some((component) => component.name === 'p2p')) {
      throw new InvalidParameterError(
        `multiaddress does not contain peer ID: ${JSON.stringify(entry)} needs a /p2p/<peer ID> part, such as /ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…`,
      )
    }
    return address.toString()
  })
}

function pinUpdate(query: PinQuery): string | undefined {
  const text = query['pin-update']
  if (text === undefined || text === '') return undefined
  try {
    return parseCid(text).toString()
  } catch (error) {
    throw new InvalidParameterError(
      `error decoding update option parameter: ${(error as Error).message}`,
    )
  }
}

function expireAt(query: PinQuery, now: number): number | null {
  const at = query['expire-at']
  if (at !== undefined && at !== '') {
    const parsed = Date.parse(at)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(parsed)) {
      throw new InvalidParameterError(
        `expire-at cannot be parsed: ${JSON.stringify(at)} is not an RFC 3339 time such as 2030-01-02T15:04:05Z`,
      )
    }
    return parsed
  }
  const within = query['expire-in']
  if (within === undefined || within === '') return null
  const duration = parseGoDuration(within)
  if (duration === null) {
    throw new InvalidParameterError(
      `expire-in cannot be parsed: ${JSON.stringify(within)} is not a duration such as "90s", "12h" or "1h30m"`,
    )
  }
  if (duration < 1000)
    throw new InvalidParameterError('expire-in duration too short: it must be at least 1s')
  return now + duration
}

/**
 * Turns the query parameters of IPFS Cluster's `POST /pins/{cid}` into a pin request, as 1.x's
 * PinOptions.FromQuery and then Cluster.pin's checks: `name`, `mode`, `replication` (both
 * factors), `replication-min`, `replication-max`, `shard-size`, `user-allocations` and `origins`
 * (comma-separated), `expire-at` (RFC 3339) or `expire-in` (Go duration, at least 1s),
 * `meta-<key>=<value>` and `pin-update=<cid>`. Malformed parameters are `InvalidParameterError`
 * (400); factors of 0 take the cluster's defaults, and factors that cannot be used, or an
 * `expire-at` already past, are the cluster's `ReplicationFactorError`/`PinOptionsError` with
 * 1.x's messages (500, as 1.x), checked here too so that a request without the cluster gets them.
 * A `pin-update` takes the replication of the pin it updates, so its factors are not checked.
 * Unlike IPFS Cluster, an unknown `mode` and a `user-allocations` entry that is not a peer ID
 * are refused rather than read as recursive or dropped.
 */
export function parsePinRequest(
  cid: PinInput['cid'],
  query: PinQuery,
  defaults: PinRequestDefaults,
): PinRequest {
  const mode = query.mode === undefined || query.mode === '' ? 'recursive' : query.mode
  if (mode !== 'recursive' && mode !== 'direct') {
    throw new InvalidParameterError(
      `parameter mode must be "recursive" or "direct", got ${JSON.stringify(query.mode)}`,
    )
  }
  // As 1.x: `replication` overrides both factors, and a bad one is reported as replication-min.
  const replication = query.replication === '' ? undefined : query.replication
  const min = integerParameter(query, 'replication-min', replication)
  const max = integerParameter(query, 'replication-max', replication)
  const shard = shardSize(query)
  const allocations = userAllocations(query)
  const expiry = expireAt(query, defaults.now)
  const metadata: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith(metaPrefix) && key.length > metaPrefix.length && value !== undefined) {
      metadata[key.slice(metaPrefix.length)] = String(value)
    }
  }
  const update = pinUpdate(query)
  const from = origins(query)
  const replicationFactorMin = min === 0 ? defaults.replicationFactorMin : min
  const replicationFactorMax = max === 0 ? defaults.replicationFactorMax : max
  if (update === undefined || update === cid) {
    checkReplicationFactors(replicationFactorMin, replicationFactorMax)
    if (expiry !== null && expiry < defaults.now)
      throw new PinOptionsError('pin.ExpireAt set before current time')
  }
  return {
    input: {
      cid,
      name: query.name ?? '',
      mode,
      maxDepth: mode === 'direct' ? 0 : -1,
      type: 'pin',
      replicationFactorMin,
      replicationFactorMax,
      userAllocations: allocations,
      shardSize: shard,
      origins: from,
      expireAt: expiry,
      metadata,
      timestamp: defaults.now,
    },
    pinUpdate: update === String(cid) ? undefined : update,
  }
}

/** The pin of a request without its `pin-update` (for `/add`, which pins what it imported). */
export function pinInputFromQuery(
  cid: string,
  query: PinQuery,
  defaults: PinRequestDefaults,
): PinInput {
  return parsePinRequest(cid, query, defaults).input
}

/** The pin options of IPFS Cluster's query string, as `parsePinRequest` reads them. */
export const pinQueryProperties = {
  name: { type: 'string', maxLength: 4096 },
  mode: { type: 'string', enum: ['', 'recursive', 'direct'] },
  // Integers are parsed by `parsePinRequest`, so that a bad one gets 1.x's message.
  replication: { type: 'string', maxLength: 32 },
  'replication-min': { type: 'string', maxLength: 32 },
  'replication-max': { type: 'string', maxLength: 32 },
  'shard-size': { type: 'string', maxLength: 32 },
  'expire-at': { type: 'string' },
  'expire-in': { type: 'string' },
  'user-allocations': { type: 'string' },
  'pin-update': { type: 'string', maxLength: 2048 },
  origins: { type: 'string', maxLength: 65536 },
} as const

/** The query schema of the routes that pin (`POST /pins/{cid}`, pins by path). */
export const pinQuerySchema = {
  type: 'object',
  properties: pinQueryProperties,
  // `meta-<key>` parameters carry metadata; other unknown parameters are ignored, as in IPFS Cluster.
  additionalProperties: { type: 'string' },
} as const
