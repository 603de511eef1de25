import { multiaddr } from '@multiformats/multiaddr'
import { InvalidConnectorConfigurationError } from '../errors.ts'
import { formatDuration, parseDuration } from './duration.ts'

/** Refuses keys a section does not know: a typo must not fall back to a default silently. */
export function refuseUnknownKeys(
  section: string,
  json: Readonly<Record<string, unknown>>,
  known: readonly string[],
): void {
  for (const key of Object.keys(json)) {
    if (!known.includes(key)) {
      throw new InvalidConnectorConfigurationError(
        `${section}.${key}`,
        `is not a known key; the keys are ${[...known].sort().join(', ')}`,
      )
    }
  }
}

export function durationInRange(
  key: string,
  value: unknown,
  minimum: number,
  maximum: number,
): number {
  const milliseconds = parseDuration(key, value)
  if (milliseconds < minimum || milliseconds > maximum) {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be from ${formatDuration(minimum)} to ${formatDuration(maximum)}, got ${JSON.stringify(value)}`,
    )
  }
  return milliseconds
}

export function booleanValue(key: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be true or false, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

export function multiaddressValue(key: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be a multiaddress such as "/ip4/127.0.0.1/tcp/4001", got ${JSON.stringify(value)}`,
    )
  }
  try {
    return multiaddr(value).toString()
  } catch (error) {
    throw new InvalidConnectorConfigurationError(
      key,
      `is not a valid multiaddress (${JSON.stringify(value)}: ${(error as Error).message})`,
    )
  }
}

/** One multiaddress or a list of them (IPFS Cluster accepts both for listen addresses). */
export function multiaddressList(key: string, value: unknown): string[] {
  const entries = typeof value === 'string' ? [value] : value
  if (!Array.isArray(entries)) {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be a multiaddress or a list of multiaddresses, got ${JSON.stringify(value)}`,
    )
  }
  return entries.map((entry, index) => multiaddressValue(`${key}[${index}]`, entry))
}

const byteUnits: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** A size as Kubo's `Datastore.StorageMax` writes it (`"10GB"`, `"512MiB"`) or a byte count. */
export function byteSize(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  const match =
    typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value) : null
  const unit = match === null ? undefined : byteUnits[(match[2] ?? '').toLowerCase()]
  if (match === null || unit === undefined) {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be a size such as "10GB", "500MiB" or a number of bytes, got ${JSON.stringify(value)}`,
    )
  }
  return Math.round(Number(match[1]) * unit)
}
