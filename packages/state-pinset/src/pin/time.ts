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

/** The value of the ASCII digits text[from…to), or -1 if one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0
  for (let at = from; at < to; at++) {
    const digit = text.charCodeAt(at) - 0x30
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - 719468
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Parses an RFC 3339 time to milliseconds since the epoch (a finer fraction is truncated), or
 * null for Go's zero time and the epoch. Returns an error message for anything else. Read by
 * hand, without a regular expression or a Date: an import of a million pins parses a million.
 */
export function parseTime(text: string): number | null | { error: string } {
  // Built only for a bad time: quoting the text is dearer than parsing it.
  const malformed = (): { error: string } => ({
    error: `is not an RFC 3339 time like "2024-05-01T12:00:00Z": ${JSON.stringify(text)}`,
  })
  const length = text.length
  if (
    length < 20 ||
    text.charCodeAt(4) !== 0x2d ||
    text.charCodeAt(7) !== 0x2d ||
    text.charCodeAt(10) !== 0x54 ||
    text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  )
    return malformed()
  const y = digits(text, 0, 4)
  const mo = digits(text, 5, 7)
  const d = digits(text, 8, 10)
  const h = digits(text, 11, 13)
  const mi = digits(text, 14, 16)
  const s = digits(text, 17, 19)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return malformed()
  let at = 19
  let milliseconds = 0
  if (text.charCodeAt(at) === 0x2e) {
    const from = ++at
    while (at < length && at - from < 10 && digits(text, at, at + 1) >= 0) at++
    const count = at - from
    if (count < 1 || count > 9) return malformed()
    // The first three digits, as milliseconds: ".5" is 500, ".123456" is 123.
    const taken = Math.min(count, 3)
    milliseconds = digits(text, from, from + taken) * 10 ** (3 - taken)
  }
  let zoneSign = 0
  let zoneHours = 0
  let zoneMinutes = 0
  const zone = text.charCodeAt(at)
  if (zone === 0x5a) {
    if (at + 1 !== length) return malformed()
  } else if (zone === 0x2b || zone === 0x2d) {
    if (at + 6 !== length || text.charCodeAt(at + 3) !== 0x3a) return malformed()
    zoneHours = digits(text, at + 1, at + 3)
    zoneMinutes = digits(text, at + 4, at + 6)
    if (zoneHours < 0 || zoneMinutes < 0) return malformed()
    zoneSign = zone === 0x2d ? -1 : 1
  } else return malformed()
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
    return { error: `has a field out of range: ${JSON.stringify(text)}` }
  }
  if (zoneSign !== 0 && (zoneHours > 23 || zoneMinutes > 59))
    return { error: `has an invalid time zone offset: ${JSON.stringify(text)}` }
  const offset = zoneSign * (zoneHours * 60 + zoneMinutes) * 60000
  const value =
    ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + milliseconds - offset
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
