import { InvalidConnectorConfigurationError } from '../errors.ts'

const units: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/**
 * Parses a Go duration (`"30s"`, `"2m0s"`, `"3h"`) into milliseconds, or null. A dependency-free
 * copy of @pinraft/consensus's parser, so that this package stands on its own.
 */
export function parseGoDuration(text: string): number | null {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let match = pattern.exec(trimmed); match !== null; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * (units[match[2] as string] ?? 0)
    consumed = pattern.lastIndex
  }
  if (consumed === 0 || consumed !== trimmed.length) return null
  return total
}

/** A configuration duration: a Go duration string or a number of milliseconds. */
export function parseDuration(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  const milliseconds = typeof value === 'string' ? parseGoDuration(value) : null
  if (milliseconds === null) {
    throw new InvalidConnectorConfigurationError(
      key,
      `must be a duration such as "30s", "2m0s" or "3h0m0s", got ${JSON.stringify(value)}`,
    )
  }
  return milliseconds
}

/** Milliseconds as Go writes a duration (`120000` → `"2m0s"`). */
export function formatDuration(milliseconds: number): string {
  if (milliseconds === 0) return '0s'
  if (milliseconds < 1000) return `${milliseconds}ms`
  const hours = Math.floor(milliseconds / 3_600_000)
  const minutes = Math.floor((milliseconds % 3_600_000) / 60_000)
  const seconds = (milliseconds % 60_000) / 1000
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}
