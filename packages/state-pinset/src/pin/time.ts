/**
 * Times as IPFS Cluster writes them in JSON (Go's `time.Time`, RFC 3339 with optional fraction),
 * kept here as whole milliseconds since the Unix epoch. Go's zero time and the Unix epoch both
 * mean "not set" to IPFS Cluster, so both read as null.
 */

/** Go's zero `time.Time`, which IPFS Cluster writes for an unset time. */
export const goZeroTime = '0001-01-01T00:00:00Z'
const goZeroMilliseconds = -62135596800000

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the years RFC 3339 (and Go's JSON) can write. */
export const earliestTime = -62167219200000
export const latestTime = 253402300799999

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/**
 * Parses an RFC 3339 time to milliseconds since the epoch (a finer fraction is truncated), or
 * null for Go's zero time and the epoch. Returns an error message for anything else.
 */
export function parseTime(text: string): number | null | { error: string } {
  const match = rfc3339.exec(text)
  if (match === null)
    return { error: `is not an RFC 3339 time like "2024-05-01T12:00:00Z": ${JSON.stringify(text)}` }
  const [, year, month, day, hour, minute, second, fraction, zone] = match as unknown as string[]
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const [y, mo, d, h, mi, s] = fields
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, 0)
  if (
    mo < 1 ||
    mo > 12 ||
    date.getUTCDate() !== d ||
    date.getUTCMonth() !== mo - 1 ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    return { error: `has a field out of range: ${JSON.stringify(text)}` }
  }
  let offset = 0
  if (zone !== undefined && zone !== 'Z') {
    const zoneHours = Number(zone.slice(1, 3))
    const zoneMinutes = Number(zone.slice(4, 6))
    if (zoneHours > 23 || zoneMinutes > 59)
      return { error: `has an invalid time zone offset: ${JSON.stringify(text)}` }
    offset = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes) * 60000
  }
  const milliseconds = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3))
  const value = date.getTime() + milliseconds - offset
  if (value === goZeroMilliseconds || value === 0) return null
  if (value < earliestTime || value > latestTime)
    return { error: `is outside the years 0000 to 9999: ${JSON.stringify(text)}` }
  return value
}

/** Formats milliseconds since the epoch as Go does (UTC, fraction without trailing zeros), null as Go's zero time. */
export function formatTime(value: number | null): string {
  if (value === null) return goZeroTime
  const iso = new Date(value).toISOString()
  // toISOString is always "YYYY-MM-DDTHH:MM:SS.sssZ" within years 0000–9999.
  const fraction = iso.slice(20, 23).replace(/0+$/, '')
  return fraction.length === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${fraction}Z`
}

/** Milliseconds since the epoch of a time input, null for unset, or an error message. */
export function timeFromInput(input: unknown): number | null | { error: string } {
  if (input === null || input === undefined) return null
  if (typeof input === 'string') return parseTime(input)
  let value: number
  if (input instanceof Date) value = input.getTime()
  else if (typeof input === 'number') value = input
  else return { error: 'must be milliseconds since the epoch, a Date or an RFC 3339 string' }
  if (!Number.isInteger(value))
    return { error: 'must be a whole number of milliseconds since the epoch' }
  if (value === 0 || value === goZeroMilliseconds) return null
  if (value < earliestTime || value > latestTime)
    return { error: 'must be within the years 0000 to 9999' }
  return value
}
