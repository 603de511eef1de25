import { describe, expect, it } from 'vitest'
import { formatPin } from '../src/cli/format.ts'
import type { PinJson } from '../src/client/api-client.ts'

const base: PinJson = {
  cid: 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG',
  name: 'photos',
  mode: 'recursive',
  type: 'pin',
  replication_factor_min: 2,
  replication_factor_max: 3,
  allocations: ['12D3KooWpeerB', '12D3KooWpeerA'],
  user_allocations: null,
  expire_at: '0001-01-01T00:00:00Z',
  metadata: null,
  max_depth: -1,
  timestamp: '2026-12-02T01:02:03.456Z',
}

describe('pin lines as ipfs-cluster-ctl prints them', () => {
  it('shows the replication factors and the sorted allocations of an allocated pin', () => {
    expect(formatPin(base)).toBe(
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG | photos | PIN | Repl. Factor: 2--3 | Allocations: [12D3KooWpeerA 12D3KooWpeerB] | Recursive | Metadata: no | Exp: ∞ | Added: 2026-12-02 01:02:03\n',
    )
  })

  it('says everywhere for -1/-1, marks direct pins and limited depths, metadata and expiry', () => {
    const line = formatPin({
      ...base,
      name: '',
      mode: 'direct',
      replication_factor_min: -1,
      replication_factor_max: -1,
      allocations: [],
      metadata: { owner: 'ops' },
      max_depth: 0,
      expire_at: '2027-01-01T00:00:00Z',
    })
    expect(line).toBe(
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG |  | PIN-DIRECT | Repl. Factor: -1 | Allocations: [everywhere] | Direct | Metadata: yes | Exp: 2027-01-01 00:00:00 | Added: 2026-12-02 01:02:03\n',
    )
    expect(formatPin({ ...base, max_depth: 2 })).toContain(' | Recursive-2 | ')
  })
})
