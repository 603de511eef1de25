import { parseGoDuration } from '@pinraft/consensus'
import type { PinInput } from '@pinraft/state-pinset'
import { InvalidParameterError } from '../errors.ts'

/** The query of `POST /pins/{cid}` after schema validation (integers already coerced). */
export interface PinQuery {
  name?: string
  mode?: string
  replication?: number
  'replication-min'?: number
  'replication-max'?: number
  'expire-at'?: string
  'expire-in'?: string
  'user-allocations'?: string
  [parameter: string]: string | number | undefined
}

const metaPrefix = 'meta-'

/**
 * Turns the query parameters of IPFS Cluster's `POST /pins/{cid}` into a pin (PinOptions.FromQuery):
 * `name`, `mode`, `replication` (both factors), `replication-min`, `replication-max`,
 * `user-allocations` (comma-separated), `expire-at` (RFC 3339) or `expire-in` (Go duration, at
 * least 1s), and `meta-<key>=<value>`. Replication factors of 0 take the cluster's defaults.
 * Unlike IPFS Cluster, an unknown `mode` is refused rather than read as recursive.
 */
export function pinInputFromQuery(
  cid: PinInput['cid'],
  query: PinQuery,
  defaults: { replicationFactorMin: number; replicationFactorMax: number; now: number },
): PinInput {
  const mode = query.mode === undefined || query.mode === '' ? 'recursive' : query.mode
  if (mode !== 'recursive' && mode !== 'direct') {
    throw new InvalidParameterError(
      `parameter mode must be "recursive" or "direct", got ${JSON.stringify(query.mode)}`,
    )
  }
  const replicationMin = query.replication ?? query['replication-min'] ?? 0
  const replicationMax = query.replication ?? query['replication-max'] ?? 0
  let expireAt: number | null = null
  if (query['expire-at'] !== undefined && query['expire-at'] !== '') {
    const text = query['expire-at']
    const parsed = Date.parse(text)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(parsed)) {
      throw new InvalidParameterError(
        `expire-at cannot be parsed: ${JSON.stringify(text)} is not an RFC 3339 time such as 2030-01-02T15:04:05Z`,
      )
    }
    expireAt = parsed
  } else if (query['expire-in'] !== undefined && query['expire-in'] !== '') {
    const duration = parseGoDuration(query['expire-in'])
    if (duration === null) {
      throw new InvalidParameterError(
        `expire-in cannot be parsed: ${JSON.stringify(query['expire-in'])} is not a duration such as "90s", "12h" or "1h30m"`,
      )
    }
    if (duration < 1000)
      throw new InvalidParameterError('expire-in duration too short: it must be at least 1s')
    expireAt = defaults.now + duration
  }
  const metadata: Record<string, string> = {}
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith(metaPrefix) && key.length > metaPrefix.length && value !== undefined) {
      metadata[key.slice(metaPrefix.length)] = String(value)
    }
  }
  const allocations = query['user-allocations']
  return {
    cid,
    name: query.name ?? '',
    mode,
    maxDepth: mode === 'direct' ? 0 : -1,
    type: 'pin',
    replicationFactorMin: replicationMin === 0 ? defaults.replicationFactorMin : replicationMin,
    replicationFactorMax: replicationMax === 0 ? defaults.replicationFactorMax : replicationMax,
    userAllocations:
      allocations === undefined || allocations === ''
        ? []
        : allocations
            .split(',')
            .map((peer) => peer.trim())
            .filter((peer) => peer !== ''),
    expireAt,
    metadata,
    timestamp: defaults.now,
  }
}

const replicationFactor = { type: 'integer', minimum: -1, maximum: 2147483647 } as const

/** The pin options of IPFS Cluster's query string, as `pinInputFromQuery` reads them. */
export const pinQueryProperties = {
  name: { type: 'string', maxLength: 4096 },
  mode: { type: 'string', enum: ['', 'recursive', 'direct'] },
  replication: replicationFactor,
  'replication-min': replicationFactor,
  'replication-max': replicationFactor,
  'expire-at': { type: 'string' },
  'expire-in': { type: 'string' },
  'user-allocations': { type: 'string' },
} as const

/** The query schema of the routes that pin (`POST /pins/{cid}`, pins by path). */
export const pinQuerySchema = {
  type: 'object',
  properties: pinQueryProperties,
  // `meta-<key>` parameters carry metadata; other unknown parameters are ignored, as in IPFS Cluster.
  additionalProperties: { type: 'string' },
} as const
