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
 * Parses a Go duration string as IPFS Cluster writes them (`"15s"`, `"200ms"`, `"2m0s"`,
 * `"1h30m"`) into milliseconds. A plain number is taken as milliseconds.
 */
export function parseDuration(key: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    return value
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidConfigurationError(
      key,
      `must be a duration such as "15s", "200ms" or "2m0s", got ${JSON.stringify(value)}`,
    )
  }
  const text = value.trim()
  if (text === '0') return 0
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (units[match[2] as string] ?? 0)
    consumed = pattern.lastIndex
  }
  if (consumed !== text.length || consumed === 0) {
    throw new InvalidConfigurationError(
      key,
      `must be a duration such as "15s", "200ms" or "2m0s", got ${JSON.stringify(value)}`,
    )
  }
  return total
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
