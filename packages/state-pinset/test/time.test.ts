import { describe, expect, it } from 'vitest'
import { parseTime } from '../src/pin/time.ts'

/** The reading this package had before (a regular expression and a Date), as the reference. */
function reference(text: string): number | null | 'error' {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(
      text,
    )
  if (match === null) return 'error'
  const [, year, month, day, hour, minute, second, fraction, zone] = match as unknown as string[]
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as number[]
  const date = new Date(0)
  date.setUTCFullYear(y!, mo! - 1, d)
  date.setUTCHours(h!, mi, s, 0)
  if (
    mo! < 1 ||
    mo! > 12 ||
    date.getUTCDate() !== d ||
    date.getUTCMonth() !== mo! - 1 ||
    h! > 23 ||
    mi! > 59 ||
    s! > 59
  )
    return 'error'
  let offset = 0
  if (zone !== 'Z') {
    const zoneHours = Number(zone!.slice(1, 3))
    const zoneMinutes = Number(zone!.slice(4, 6))
    if (zoneHours > 23 || zoneMinutes > 59) return 'error'
    offset = (zone!.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes) * 60000
  }
  const milliseconds = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3))
  const value = date.getTime() + milliseconds - offset
  if (value === -62135596800000 || value === 0) return null
  if (value < -62167219200000 || value > 253402300799999) return 'error'
  return value
}

function reading(text: string): number | null | 'error' {
  const value = parseTime(text)
  return value !== null && typeof value === 'object' ? 'error' : value
}

describe('parseTime', () => {
  it('reads every time as the Date-based reading did, and rejects what it rejected', () => {
    const texts = [
      '0001-01-01T00:00:00Z',
      '1970-01-01T00:00:00Z',
      '1970-01-01T00:00:00.001Z',
      '2026-12-01T12:00:00Z',
      '2024-02-29T23:59:59.999999999Z',
      '2023-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '0000-02-29T00:00:00Z',
      '9999-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59-01:00',
      '0000-01-01T00:00:00+00:01',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:60:00Z',
      '2026-01-01T00:00:60Z',
      '2026-01-01T00:00:00+24:00',
      '2026-01-01T00:00:00+05:60',
      '2026-01-01T00:00:00+05:30',
      '2026-01-01T00:00:00-11:45',
      '2026-01-01T00:00:00.5Z',
      '2026-01-01T00:00:00.12Z',
      '2026-01-01T00:00:00.1234567890Z',
      '2026-01-01T00:00:00.Z',
      '2026-01-01T00:00:00',
      '2026-01-01 00:00:00Z',
      '2026-01-01T00:00:00z',
      '2026-1-01T00:00:00Z',
      '2026-01-01T00:00:00ZZ',
      '2026-01-01T00:00:00+0530',
      '2026-01-01T00:00:00+05:30:00',
      '20a6-01-01T00:00:00Z',
      '２０２６-01-01T00:00:00Z',
      '',
      'now',
    ]
    // And a spread of instants over the whole range, in several zones and precisions.
    for (let i = 0; i < 2000; i++) {
      const instant = -62167219200000 + Math.floor((i / 2000) * 315537897599999) + i * 7919
      const iso = new Date(instant).toISOString()
      if (iso.startsWith('+') || iso.startsWith('-')) continue
      texts.push(iso, iso.replace(/\.\d+Z$/, 'Z'), iso.replace('Z', '+03:30'))
    }
    for (const text of texts) expect(reading(text), text).toBe(reference(text))
  })
})
