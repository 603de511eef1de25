import { InvalidConfigurationError } from '../errors.ts'

const units: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/**
 * Parses a Go duration (`"15s"`, `"200ms"`, `"2m0s"`, `"1h30m"`), as IPFS Cluster's
 * configuration and its `expire-in` parameter take them, into milliseconds. Returns null when the
 * text is not one. Negative durations are not accepted: nothing here waits for the past.
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

/**
 * Parses the duration of configuration key `key` into milliseconds: a Go duration string, or a
 * plain number of milliseconds. Throws an `InvalidConfigurationError` naming the key.
 */
export function parseDuration(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    return value
  }
  const milliseconds = typeof value === 'string' ? parseGoDuration(value) : null
  if (milliseconds === null) {
    throw new InvalidConfigurationError(
      key,
      `must be a duration such as "15s", "200ms" or "2m0s", got ${JSON.stringify(value)}`,
    )
  }
  return milliseconds
}

/** Formats milliseconds as a Go duration string (`1500` → `"1.5s"`, `120000` → `"2m0s"`). */
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
