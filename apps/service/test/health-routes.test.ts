import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ApiOptions } from '../src/http/api-context.ts'
import { createApp } from '../src/http/app.ts'
import { type ApiFixture, apiFixture, newPeerId } from './support/api-fixture.ts'
import { FakeClusterHealth, metric } from './support/fake-health.ts'

let fixture: ApiFixture
let health: FakeClusterHealth
let app: ReturnType<typeof createApp>
let peers: string[]

async function appWith(api?: ApiOptions): Promise<ReturnType<typeof createApp>> {
  const created = createApp({ context: { ...fixture.context, health }, ...(api ? { api } : {}) })
  await created.ready()
  return created
}

beforeEach(async () => {
  fixture = await apiFixture()
  health = new FakeClusterHealth()
  peers = (await Promise.all([newPeerId(), newPeerId(), newPeerId()])).sort()
  app = await appWith()
})

afterEach(async () => {
  await app.close()
  await fixture.app.close()
})

const expire = Date.parse('2030-01-02T03:04:35Z')
const received = Date.parse('2030-01-02T03:04:05.123Z')

describe('GET /monitor/metrics', () => {
  it('answers the metric names as one sorted JSON array, as 1.x', async () => {
    health.metrics = [
      metric({ name: 'ping', peer: peers[0]! }),
      metric({ name: 'freespace', peer: peers[0]! }),
      metric({ name: 'freespace', peer: peers[1]! }),
    ]
    const response = await app.inject({ method: 'GET', url: '/monitor/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.body).toBe('["freespace","ping"]\n')
    expect(health.calls).toEqual([{ method: 'metricNames', signal: true }])
  })

  it('answers an empty array (200, not 204) when the monitor knows no metric', async () => {
    const response = await app.inject({ method: 'GET', url: '/monitor/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('[]\n')
  })
})

describe('GET /monitor/metrics/{name}', () => {
  it("answers each peer's latest metric of that name with 1.x's Metric fields in order", async () => {
    health.metrics = [
      metric({
        name: 'freespace',
        peer: peers[1]!,
        value: '2000',
        expire,
        weight: 2000,
        receivedAt: received,
      }),
      metric({ name: 'freespace', peer: peers[0]!, value: '1000', weight: 1000, expire }),
      metric({ name: 'tags', peer: peers[0]!, value: 'eu', partitionable: true }),
    ]
    const response = await app.inject({ method: 'GET', url: '/monitor/metrics/freespace' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    const lines = response.body.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[1]).toBe('')
    // Times are Go's UnixNano integers, written in full.
    expect(lines[0]).toContain(
      `{"name":"freespace","peer":"${peers[1]}","value":"2000","expire":1893553475000000000,"valid":true,"weight":2000,"partitionable":false,"received_at":1893553445123000000}`,
    )
    const body = JSON.parse(response.body) as { peer: string; value: string }[]
    expect(body.map((entry) => [entry.peer, entry.value])).toEqual([
      [peers[0], '1000'],
      [peers[1], '2000'],
    ])
    expect(health.calls).toEqual([{ method: 'latestMetrics', argument: 'freespace', signal: true }])
  })

  it('answers an empty array for a metric nobody reported', async () => {
    const response = await app.inject({ method: 'GET', url: '/monitor/metrics/nonexistent' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('[]\n')
  })

  it('refuses an over-long name without asking the monitor', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/monitor/metrics/${'x'.repeat(257)}`,
    })
    // Fastify's limit on a path parameter (414, URI too long) answers before the route.
    expect(response.statusCode).toBe(414)
    expect(health.calls).toEqual([])
  })
})

describe('GET /health/alerts', () => {
  it('answers the alerts newest first, each a Metric with triggered_at, as 1.x', async () => {
    // As the cluster lists them: newest first.
    health.alertList = [
      {
        metric: metric({ name: 'ping', peer: peers[1]!, value: 'up', expire }),
        triggeredAt: Date.parse('2030-01-02T03:06:00.5Z'),
      },
      {
        metric: metric({ name: 'ping', peer: peers[0]!, value: 'up', expire }),
        triggeredAt: Date.parse('2030-01-02T03:05:00Z'),
      },
    ]
    const response = await app.inject({ method: 'GET', url: '/health/alerts' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    const alerts = JSON.parse(response.body) as { peer: string; triggered_at: string }[]
    expect(alerts.map((alert) => [alert.peer, alert.triggered_at])).toEqual([
      [peers[1], '2030-01-02T03:06:00.5Z'],
      [peers[0], '2030-01-02T03:05:00Z'],
    ])
    expect(Object.keys(alerts[0]!)).toEqual([
      'name',
      'peer',
      'value',
      'expire',
      'valid',
      'weight',
      'partitionable',
      'received_at',
      'triggered_at',
    ])
  })

  it('answers an empty array when there was no alert', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/alerts' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('[]\n')
  })
})

describe('GET /health/graph', () => {
  it("answers 1.x's ConnectGraph: its field names and order, maps sorted by key", async () => {
    const [a, b, c] = peers as [string, string, string]
    const [ipfsA, ipfsB] = (await Promise.all([newPeerId(), newPeerId()])).sort() as [
      string,
      string,
    ]
    health.graph = {
      clusterId: a,
      idToPeername: { [b]: 'beta', [a]: 'alpha<&>' },
      ipfsLinks: { [ipfsB]: [ipfsA], [ipfsA]: [ipfsB] },
      clusterLinks: { [c]: [], [a]: [b], [b]: [a] },
      clusterTrustLinks: { [b]: true, [a]: true, [c]: true },
      clusterToIpfs: { [b]: ipfsB, [a]: ipfsA },
    }
    const response = await app.inject({ method: 'GET', url: '/health/graph' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.body).toBe(
      `{"cluster_id":"${a}","id_to_peername":{"${a}":"alpha\\u003c\\u0026\\u003e","${b}":"beta"},` +
        `"ipfs_links":{"${ipfsA}":["${ipfsB}"],"${ipfsB}":["${ipfsA}"]},` +
        `"cluster_links":{"${a}":["${b}"],"${b}":["${a}"],"${c}":[]},` +
        `"cluster_trust_links":{"${a}":true,"${b}":true,"${c}":true},` +
        `"cluster_to_ipfs":{"${a}":"${ipfsA}","${b}":"${ipfsB}"}}\n`,
    )
    expect(JSON.parse(response.body).id_to_peername[a]).toBe('alpha<&>')
  })

  it('answers empty maps, not null, for a graph with no links', async () => {
    health.graph = { ...health.graph, clusterId: peers[0]! }
    const response = await app.inject({ method: 'GET', url: '/health/graph' })
    expect(response.json()).toEqual({
      cluster_id: peers[0],
      id_to_peername: {},
      ipfs_links: {},
      cluster_links: {},
      cluster_trust_links: {},
      cluster_to_ipfs: {},
    })
  })
})

describe('GET /health/bandwidth', () => {
  it("answers 1.x's BandwidthByProtocol: protocol → total_in, total_out, rate_in, rate_out", async () => {
    health.bandwidth = {
      '/pinraft/raft/1.0.0': { totalIn: 2048, totalOut: 4096, rateIn: 12.5, rateOut: 0 },
      '/ipfs/id/1.0.0': { totalIn: 10, totalOut: 20, rateIn: 0, rateOut: 1.25 },
    }
    const response = await app.inject({ method: 'GET', url: '/health/bandwidth' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.body).toBe(
      '{"/ipfs/id/1.0.0":{"total_in":10,"total_out":20,"rate_in":0,"rate_out":1.25},' +
        '"/pinraft/raft/1.0.0":{"total_in":2048,"total_out":4096,"rate_in":12.5,"rate_out":0}}\n',
    )
  })

  it('answers {} when libp2p reported no traffic', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/bandwidth' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('{}\n')
  })
})

describe('monitor and health routes', () => {
  it.each([
    '/monitor/metrics',
    '/monitor/metrics/freespace',
    '/health/alerts',
    '/health/graph',
    '/health/bandwidth',
  ])('%s answers 500 without internals when the cluster fails', async (url) => {
    health.failure = new Error('secret internal detail')
    const response = await app.inject({ method: 'GET', url })
    expect(response.statusCode).toBe(500)
    expect(response.json().code).toBe(500)
    expect(response.body).not.toContain('secret internal detail')
  })

  it('are behind basic auth, unlike GET /health (as 1.x)', async () => {
    const secured = await appWith({ basicAuthCredentials: { admin: 'hunter2' } })
    try {
      for (const url of [
        '/monitor/metrics',
        '/monitor/metrics/ping',
        '/health/alerts',
        '/health/graph',
        '/health/bandwidth',
      ]) {
        const refused = await secured.inject({ method: 'GET', url })
        expect(refused.statusCode, url).toBe(401)
        const served = await secured.inject({
          method: 'GET',
          url,
          headers: { authorization: `Basic ${Buffer.from('admin:hunter2').toString('base64')}` },
        })
        expect(served.statusCode, url).toBe(200)
      }
      expect((await secured.inject({ method: 'GET', url: '/health' })).statusCode).toBe(204)
    } finally {
      await secured.close()
    }
  })

  it('do not exist on an API started without the cluster', async () => {
    for (const url of ['/monitor/metrics', '/health/graph']) {
      const response = await fixture.app.inject({ method: 'GET', url })
      expect(response.statusCode).toBe(404)
    }
  })

  it('answer 405 to another method, as 1.x', async () => {
    const response = await app.inject({ method: 'POST', url: '/health/graph' })
    expect(response.statusCode).toBe(405)
  })
})
