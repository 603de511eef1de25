/**
 * The two go-humanize functions ipfs-cluster-ctl prints health with, so that its output reads
 * the same: `Bytes` (SI units) and `Time` (relative to now).
 */

const byteUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']

/** go-humanize's Bytes: `999 B`, `1.5 kB`, `15 MB` (powers of 1000, one decimal below 10). */
export function humanBytes(bytes: number): string {
  const size = Math.max(0, Math.trunc(bytes))
  if (size < 10) return `${size} B`
  const exponent = Math.min(Math.floor(Math.log(size) / Math.log(1000)), byteUnits.length - 1)
  const value = Math.floor((size / 1000 ** exponent) * 10 + 0.5) / 10
  return `${value < 10 ? value.toFixed(1) : goRound(value)} ${byteUnits[exponent]}`
}

/** Go's %.0f: an exact half rounds to the even neighbour (12.5 → 12), not up as toFixed does. */
function goRound(value: number): string {
  const floor = Math.floor(value)
  if (value - floor === 0.5) return String(floor % 2 === 0 ? floor : floor + 1)
  return value.toFixed(0)
}

const second = 1000
const minute = 60 * second
const hour = 60 * minute
const day = 24 * hour
const week = 7 * day
const month = 30 * day
const year = 12 * month

/** go-humanize's magnitudes: below `limit`, print `format` with the difference in `unit`s. */
const magnitudes: readonly { limit: number; format: string; unit: number }[] = [
  { limit: second, format: 'now', unit: second },
  { limit: 2 * second, format: '1 second %s', unit: 1 },
  { limit: minute, format: '%d seconds %s', unit: second },
  { limit: 2 * minute, format: '1 minute %s', unit: 1 },
  { limit: hour, format: '%d minutes %s', unit: minute },
  { limit: 2 * hour, format: '1 hour %s', unit: 1 },
  { limit: day, format: '%d hours %s', unit: hour },
  { limit: 2 * day, format: '1 day %s', unit: 1 },
  { limit: week, format: '%d days %s', unit: day },
  { limit: 2 * week, format: '1 week %s', unit: 1 },
  { limit: month, format: '%d weeks %s', unit: week },
  { limit: 2 * month, format: '1 month %s', unit: 1 },
  { limit: year, format: '%d months %s', unit: month },
  { limit: 18 * month, format: '1 year %s', unit: 1 },
  { limit: 2 * year, format: '2 years %s', unit: 1 },
  { limit: 37 * year, format: '%d years %s', unit: year },
  { limit: Number.POSITIVE_INFINITY, format: 'a long while %s', unit: 1 },
]

/** go-humanize's Time: `3 seconds ago`, `2 minutes from now`, `now` (milliseconds). */
export function relativeTime(then: number, now: number): string {
  const label = then > now ? 'from now' : 'ago'
  const difference = Math.abs(now - then)
  const magnitude = magnitudes.find((entry) => entry.limit > difference)!
  return magnitude.format
    .replace('%d', String(Math.floor(difference / magnitude.unit)))
    .replace('%s', label)
}
