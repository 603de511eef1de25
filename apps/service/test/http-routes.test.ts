import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type ApiFixture, apiFixture, CID_V0, CID_V1, jsonLines } from './support/api-fixture.ts'

let fixture: ApiFixture

beforeEach(async () => {
  fixture = await apiFixture()
})

afterEach(async () => {
  await fixture.app.close()
})

describe('GET /id and /version', () => {
  it('returns this peer as an IPFS Cluster ID object', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/id' })
    expect(response.statusCode).toBe(200)
    const id = response.json()
    expect(id).toEqual({
      id: fixture.self,
      addresses: [`/ip4/127.0.0.1/tcp/9096/p2p/${fixture.self}`],
      cluster_peers: [...fixture.consensus.members],
      cluster_peers_addresses: [fixture.other, fixture.unreachable]
        .sort()
        .map((peer) => `/ip4/127.0.0.2/tcp/9096/p2p/${peer}`),
      version: '9.9.9',
      commit: '',
      rpc_protocol_version: '/pinraft/consensus/1.0.0',
      error: '',
      ipfs: { addresses: [], error: '' },
      peername: 'alpha',
    })
  })

  it('returns the version as {"version"}', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/version' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ version: '9.9.9' })
  })
})

describe('GET /health and /metrics', () => {
  it('answers /health with 204 and no body', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/health' })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
  })

  it('exposes leader, term, indexes, pins, peers and commit latency in Prometheus format', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    const response = await fixture.app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const body = response.body
    expect(body).toMatch(/^pinraft_raft_leader 1$/m)
    expect(body).toMatch(/^pinraft_raft_term 3$/m)
    expect(body).toMatch(/^pinraft_raft_commit_index 1$/m)
    expect(body).toMatch(/^pinraft_raft_applied_index 1$/m)
    expect(body).toMatch(/^pinraft_pins 1$/m)
    expect(body).toMatch(/^pinraft_peers 3$/m)
    expect(body).toMatch(/^pinraft_commit_latency_seconds_count\{operation="pin"\} 1$/m)
  })
})

describe('POST /pins/{cid}', () => {
  it('pins with the options of the query and returns the pin in IPFS Cluster JSON', async () => {
    const response = await fixture.app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}?name=photos&mode=direct&replication-min=2&replication-max=3&meta-owner=ana&meta-kind=raw&expire-in=1h`,
    })
    expect(response.statusCode).toBe(200)
    const pin = response.json()
    expect(pin).toMatchObject({
      cid: CID_V1,
      name: 'photos',
      mode: 'direct',
      max_depth: 0,
      type: 'pin',
      replication_factor_min: 2,
      replication_factor_max: 3,
      metadata: { kind: 'raw', owner: 'ana' },
      expire_at: '2030-01-02T04:04:05Z',
      timestamp: '2030-01-02T03:04:05Z',
    })
    // Stored as returned.
    expect(fixture.consensus.pinset.get(CID_V1)?.name).toBe('photos')
  })

  it('keeps Go field order and zero values so IPFS Cluster clients decode it unchanged', async () => {
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(200)
    expect(Object.keys(response.json())).toEqual([
      'replication_factor_min',
      'replication_factor_max',
      'name',
      'mode',
      'shard_size',
      'user_allocations',
      'expire_at',
      'metadata',
      'pin_update',
      'origins',
      'cid',
      'type',
      'allocations',
      'max_depth',
      'reference',
      'timestamp',
    ])
    // Replication 0 takes the cluster default (-1: everywhere), recursive by default.
    expect(response.json()).toMatchObject({
      replication_factor_min: -1,
      replication_factor_max: -1,
      mode: 'recursive',
      max_depth: -1,
    })
  })

  it('takes expire-at as an RFC 3339 time and replication as both factors', async () => {
    const response = await fixture.app.inject({
      method: 'POST',
      url: `/pins/${CID_V0}?expire-at=2031-05-06T07:08:09Z&replication=2`,
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      expire_at: '2031-05-06T07:08:09Z',
      replication_factor_min: 2,
      replication_factor_max: 2,
    })
  })

  it('refuses an invalid CID with 400 and says why', async () => {
    const response = await fixture.app.inject({ method: 'POST', url: '/pins/not-a-cid' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({
      code: 400,
      message: expect.stringContaining('invalid CID "not-a-cid"'),
    })
    expect(fixture.consensus.calls).toEqual([])
  })

  it.each([
    ['replication-min=two', 'parameter replication-min invalid'],
    ['replication=1.5', 'parameter replication-min invalid'],
    ['replication-max=3x', 'parameter replication-max invalid'],
    ['shard-size=-1', 'parameter shard_size is invalid'],
    ['mode=sideways', 'mode must be equal to one of the allowed values'],
    ['expire-in=soon', 'expire-in cannot be parsed'],
    ['expire-in=10ms', 'expire-in duration too short'],
    ['expire-at=tomorrow', 'expire-at cannot be parsed'],
    ['user-allocations=nobody', 'user-allocations: "nobody" is not a peer ID'],
    ['pin-update=not-a-cid', 'error decoding update option parameter'],
    ['origins=/ip4/1.2.3.4/tcp/nope', 'error decoding multiaddress'],
    ['origins=/ip4/1.2.3.4/tcp/4001', 'multiaddress does not contain peer ID'],
  ])('refuses the malformed parameter %s with 400 naming it', async (query, message) => {
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}?${query}` })
    expect(response.statusCode).toBe(400)
    const body = response.json()
    expect(body.code).toBe(400)
    expect(body.message).toContain(message)
    expect(fixture.consensus.pinset.count()).toBe(0)
  })

  it('answers 503 without internals when there is no leader', async () => {
    fixture.consensus.failNext('NoLeaderError', 'secret internal detail')
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(503)
    expect(response.json().message).toContain('no leader')
    expect(response.body).not.toContain('secret internal detail')
  })

  it('answers 504 when the outcome of the operation is unknown', async () => {
    fixture.consensus.failNext('OutcomeUnknownError', 'secret internal detail')
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(504)
    expect(response.json().message).toContain('may or may not have been applied')
    expect(response.body).not.toContain('secret internal detail')
  })

  it('answers 500 with a generic message for an unexpected error', async () => {
    fixture.consensus.failNext('TypeError', 'at /home/secret/path.ts:12')
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({
      code: 500,
      message: "internal error: see the daemon's log for details",
    })
  })

  it('passes a rejection by the leader on as 400 with its reason', async () => {
    fixture.consensus.failNext(
      'OperationRejectedError',
      'the leader rejected the operation: pinset full',
    )
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toBe('the leader rejected the operation: pinset full')
  })
})

describe('DELETE /pins/{cid}', () => {
  it('unpins and returns the pin that was removed', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}?name=old` })
    const response = await fixture.app.inject({ method: 'DELETE', url: `/pins/${CID_V0}` })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ cid: CID_V0, name: 'old' })
    expect(fixture.consensus.pinset.has(CID_V0)).toBe(false)
  })

  it('answers 404 for a CID that is not pinned', async () => {
    const response = await fixture.app.inject({ method: 'DELETE', url: `/pins/${CID_V1}` })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ code: 404, message: expect.stringContaining(CID_V1) })
  })

  it('answers 400 for an invalid CID', async () => {
    const response = await fixture.app.inject({ method: 'DELETE', url: '/pins/Qmshort' })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('CIDv0')
  })
})

describe('GET /allocations', () => {
  it('answers 204 when the pinset is empty', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/allocations' })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
  })

  it('streams every pin, one JSON object per line', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}?name=a` })
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V1}?name=b` })
    const response = await fixture.app.inject({ method: 'GET', url: '/allocations' })
    expect(response.statusCode).toBe(200)
    const pins = jsonLines(response.body) as { cid: string; name: string }[]
    expect(pins.map((pin) => pin.name).sort()).toEqual(['a', 'b'])
    expect(response.trailers['x-stream-error']).toBe('')
  })

  it('filters by pin type and refuses an unknown filter', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    expect(
      (await fixture.app.inject({ method: 'GET', url: '/allocations?filter=pin' })).statusCode,
    ).toBe(200)
    expect(
      (await fixture.app.inject({ method: 'GET', url: '/allocations?filter=shard-pin' }))
        .statusCode,
    ).toBe(204)
    const bad = await fixture.app.inject({ method: 'GET', url: '/allocations?filter=pins' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().message).toContain('invalid filter value "pins"')
  })

  it('returns one pin, or 404 when absent, or 400 for a bad CID', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}?name=one` })
    const found = await fixture.app.inject({ method: 'GET', url: `/allocations/${CID_V0}` })
    expect(found.statusCode).toBe(200)
    expect(found.json()).toMatchObject({ cid: CID_V0, name: 'one' })
    const missing = await fixture.app.inject({ method: 'GET', url: `/allocations/${CID_V1}` })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().code).toBe(404)
    const bad = await fixture.app.inject({ method: 'GET', url: '/allocations/zzz' })
    expect(bad.statusCode).toBe(400)
  })
})

describe('GET /peers and DELETE /peers/{peer}', () => {
  it('streams an ID per member, with the error of a peer that cannot be asked', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/peers' })
    expect(response.statusCode).toBe(200)
    const ids = jsonLines(response.body) as {
      id: string
      peername: string
      error: string
      addresses: string[]
    }[]
    const byId = new Map(ids.map((id) => [id.id, id]))
    expect([...byId.keys()].sort()).toEqual(fixture.consensus.members)
    expect(byId.get(fixture.self)).toMatchObject({ peername: 'alpha', error: '' })
    expect(byId.get(fixture.other)).toMatchObject({ peername: 'beta', error: '' })
    expect(byId.get(fixture.unreachable)).toMatchObject({
      error: `could not dial ${fixture.unreachable}`,
      addresses: [`/ip4/127.0.0.2/tcp/9096/p2p/${fixture.unreachable}`],
    })
  })

  it('removes a member and answers 204', async () => {
    const response = await fixture.app.inject({ method: 'DELETE', url: `/peers/${fixture.other}` })
    expect(response.statusCode).toBe(204)
    expect(fixture.consensus.members).not.toContain(fixture.other)
  })

  it('answers 204 for a peer that is not a member, as IPFS Cluster 1.x does', async () => {
    await fixture.app.inject({ method: 'DELETE', url: `/peers/${fixture.other}` })
    const response = await fixture.app.inject({ method: 'DELETE', url: `/peers/${fixture.other}` })
    expect(response.statusCode).toBe(204)
    expect(fixture.consensus.members).not.toContain(fixture.other)
  })

  it('refuses a malformed peer ID with 400', async () => {
    const response = await fixture.app.inject({ method: 'DELETE', url: '/peers/not-a-peer' })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('error decoding Peer ID')
  })

  it('answers 409 when removing the last peer', async () => {
    fixture.consensus.failNext(
      'LastPeerError',
      'cannot remove it: it is the last peer of the cluster',
    )
    const response = await fixture.app.inject({ method: 'DELETE', url: `/peers/${fixture.self}` })
    expect(response.statusCode).toBe(409)
    expect(response.json().message).toContain('last peer')
  })
})

describe('unknown routes', () => {
  it('answer 404 in the JSON error form', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/nope' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({
      code: 404,
      message: expect.stringContaining('no route for GET /nope'),
    })
  })
})

describe('basic authentication', () => {
  let secured: ApiFixture

  beforeEach(async () => {
    secured = await apiFixture({
      api: { basicAuthCredentials: { admin: 'hunter2' }, headers: { 'X-Cluster': ['pinraft'] } },
    })
  })

  afterEach(async () => {
    await secured.app.close()
  })

  it('refuses requests without valid credentials with 401 and a challenge', async () => {
    for (const authorization of [
      undefined,
      `Basic ${Buffer.from('admin:wrong').toString('base64')}`,
      'Bearer x',
    ]) {
      const response = await secured.app.inject({
        method: 'GET',
        url: '/id',
        headers: authorization === undefined ? {} : { authorization },
      })
      expect(response.statusCode).toBe(401)
      expect(response.json().code).toBe(401)
      expect(response.json().message).toMatch(/^unauthorized: /)
      expect(String(response.headers['www-authenticate'])).toContain(
        'realm="Restricted IPFS Cluster API"',
      )
    }
  })

  it('serves requests with valid credentials and adds the configured headers', async () => {
    const response = await secured.app.inject({
      method: 'GET',
      url: '/version',
      headers: { authorization: `Basic ${Buffer.from('admin:hunter2').toString('base64')}` },
    })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-cluster']).toBe('pinraft')
  })
})
