import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { addPinInfo, globalPinInfoToJson, goTime, toGlobal } from '../src/global-pin-info.ts'
import { pinInfoFromWire, pinInfoToWire } from '../src/rpc/pin-info-wire.ts'

const cid = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
const peerA = '12D3KooWJ9GpYFrUWQBNhsa3JxD9dBRmN3FkhF5YXdKz7rFyFpNr'
const peerB = '12D3KooWGRUVh9WZTm9cZkZ5rBdDBHuDRT9CUXvRuAH1Qpcf4Crk'
const created = Date.UTC(2026, 11, 1, 12, 0, 0, 120)

const pinned = {
  cid,
  name: 'docs <1>',
  peer: peerA,
  allocations: [],
  origins: [],
  created,
  metadata: { b: '2', a: '1' },
  peername: 'alpha',
  ipfsPeerId: '12D3KooWIpfsA',
  ipfsPeerAddresses: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWIpfsA'],
  status: 'pinned' as const,
  timestamp: created,
  error: '',
  attemptCount: 0,
  priorityPin: false,
}

describe('GlobalPinInfo JSON', () => {
  it('writes 1.x’s fields in Go’s order, peers sorted, omitempty IPFS fields, Go times', () => {
    const global = toGlobal(pinned)
    addPinInfo(global, {
      ...pinned,
      peer: peerB,
      name: '',
      created: null,
      metadata: {},
      peername: '',
      ipfsPeerId: '',
      ipfsPeerAddresses: [],
      status: 'cluster_error',
      timestamp: Date.UTC(2026, 11, 1, 12, 0, 1),
      error: 'dial timeout',
    })
    expect(globalPinInfoToJson(global)).toBe(
      '{"cid":"bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi","name":"docs \\u003c1\\u003e","allocations":[],"origins":[],"created":"2026-12-01T12:00:00.12Z","metadata":{"a":"1","b":"2"},"peer_map":{' +
        `"${peerB}":{"peername":"","status":"cluster_error","timestamp":"2026-12-01T12:00:01Z","error":"dial timeout","attempt_count":0,"priority_pin":false},` +
        `"${peerA}":{"peername":"alpha","ipfs_peer_id":"12D3KooWIpfsA","ipfs_peer_addresses":["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWIpfsA"],"status":"pinned","timestamp":"2026-12-01T12:00:00.12Z","error":"","attempt_count":0,"priority_pin":false}}}`,
    )
  })

  it('keeps the pin’s fields from a real answer when a cluster_error comes after it', () => {
    const global = toGlobal(pinned)
    addPinInfo(global, { ...pinned, peer: peerB, name: '', status: 'cluster_error' })
    expect(global.name).toBe('docs <1>')
  })

  it('writes Go’s zero time for an unset time', () => {
    expect(goTime(null)).toBe('0001-01-01T00:00:00Z')
    expect(goTime(Date.UTC(2030, 0, 2, 3, 4, 5, 6))).toBe('2030-01-02T03:04:05.006Z')
  })
})

describe('PinInfo on the wire', () => {
  it('round-trips, and takes the peer from who answered', () => {
    const back = pinInfoFromWire(JSON.parse(JSON.stringify(pinInfoToWire(pinned))), peerB)
    expect(back).toEqual({ ...pinned, peer: peerB })
  })

  it('refuses a malformed answer naming the field', () => {
    const wire = { ...pinInfoToWire(pinned), status: 'pinnned' }
    expect(() => pinInfoFromWire(wire, peerA)).toThrow('bad status in a PinInfo: "pinnned"')
    expect(() => pinInfoFromWire({ ...pinInfoToWire(pinned), cid: 'nope' }, peerA)).toThrow(
      /bad cid/,
    )
  })
})
