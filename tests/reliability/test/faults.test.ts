import { describe, expect, it } from 'vitest'
import { describeCallError, errorDetail } from '../src/api-client.ts'
import { defaultFaults, faultKinds, faultSchedule, parseFaultKinds } from '../src/faults.ts'
import { seededRandom } from '../src/random.ts'

describe('fault selection', () => {
  it('leaves the wipe-and-rejoin fault out of the CI profile and puts it in the long one', () => {
    expect(defaultFaults.ci).not.toContain('wipe-rejoin')
    expect(defaultFaults.ci).toHaveLength(faultKinds.length - 1)
    expect(defaultFaults.long).toContain('wipe-rejoin')
  })

  it('schedules each chosen kind once per round', () => {
    const schedule = faultSchedule(seededRandom(1), 2, ['kill-one', 'wipe-rejoin'])
    expect([...schedule].sort()).toEqual(['kill-one', 'kill-one', 'wipe-rejoin', 'wipe-rejoin'])
  })

  it('parses --faults and names the accepted kinds on a typo', () => {
    expect(parseFaultKinds('disk-full, wipe-rejoin')).toEqual(['disk-full', 'wipe-rejoin'])
    expect(() => parseFaultKinds('disk-ful')).toThrow(
      /unknown fault kind "disk-ful": use .*wipe-rejoin/,
    )
    expect(() => parseFaultKinds('')).toThrow(/unknown fault kind/)
  })
})

describe('errorDetail', () => {
  it("keeps the message of an error in IPFS Cluster's shape", () => {
    expect(errorDetail(503, '{"code":503,"message":"no leader confirmed a read point"}')).toBe(
      'HTTP 503 no leader confirmed a read point',
    )
  })

  it('names the cause of a call that failed before any answer (fetch\'s bare "fetch failed")', () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    })
    expect(describeCallError(reset)).toBe('TypeError: fetch failed (UND_ERR_SOCKET)')
    expect(describeCallError(new Error('the peer went away'))).toBe('Error: the peer went away')
    expect(describeCallError('aborted')).toBe('aborted')
  })

  it('says when an error body is not in that shape', () => {
    expect(errorDetail(503, 'Service Unavailable')).toMatch(
      /not IPFS Cluster's \{"code","message"\} error shape/,
    )
    expect(errorDetail(503, '{"code":500,"message":"x"}')).toMatch(/not IPFS Cluster's/)
  })
})
