import { describe, expect, it } from 'vitest'
import type { GlobalPinInfo } from '../src/api-types.ts'
import {
  countsByPeer,
  overallStatus,
  pinsNeedingRecovery,
  searchPins,
  statusesPresent,
} from '../src/pin-summary.ts'

function pin(cid: string, name: string, statuses: Record<string, string>): GlobalPinInfo {
  return {
    cid,
    name,
    allocations: [],
    origins: [],
    created: '2030-01-01T00:00:00Z',
    metadata: null,
    peer_map: Object.fromEntries(
      Object.entries(statuses).map(([peer, status]) => [
        `id-${peer}`,
        { peername: peer, ipfs_peer_id: '', status, timestamp: '', error: '' },
      ]),
    ),
  }
}

const pins = [
  pin('bafyone', 'photos', { alpha: 'pinned', beta: 'pinned' }),
  pin('bafytwo', 'Backups', { alpha: 'pin_error', beta: 'pinning' }),
  pin('bafythree', '', { alpha: 'unexpectedly_unpinned', beta: 'sharded' }),
]

describe('pin summaries', () => {
  it('counts pins by status on each peer, statuses in the page’s order, unknown ones last', () => {
    const counts = countsByPeer(pins)
    expect(Object.fromEntries(counts.get('alpha') ?? [])).toEqual({
      pinned: 1,
      pin_error: 1,
      unexpectedly_unpinned: 1,
    })
    expect(statusesPresent(counts)).toEqual([
      'pinned',
      'pinning',
      'pin_error',
      'unexpectedly_unpinned',
      'sharded',
    ])
  })

  it('lists the pins a recover would retry', () => {
    expect(pinsNeedingRecovery(pins).map((entry) => entry.cid)).toEqual(['bafytwo', 'bafythree'])
  })

  it('says one status when every peer agrees, else each', () => {
    expect(overallStatus(pins[0] as GlobalPinInfo)).toBe('pinned')
    expect(overallStatus(pins[1] as GlobalPinInfo)).toBe('pin_error, pinning')
    expect(overallStatus(pin('bafyfour', '', {}))).toBe('unknown')
  })

  it('finds pins by part of their CID or name, ignoring case', () => {
    expect(searchPins(pins, 'backup').map((entry) => entry.cid)).toEqual(['bafytwo'])
    expect(searchPins(pins, 'THREE').map((entry) => entry.cid)).toEqual(['bafythree'])
    expect(searchPins(pins, '  ')).toHaveLength(3)
    expect(searchPins(pins, 'nothing')).toEqual([])
  })
})
