import type { AddressInfo } from 'node:net'
import type { GlobalPinInfo } from '@pinraft/cluster'
import fastify from 'fastify'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/http/app.ts'
import { handleError } from '../src/http/error-handler.ts'
import {
  pinStatusRoutes,
  type StatusCluster as RouteCluster,
} from '../src/http/routes/pin-status.ts'
import { apiFixture } from './support/api-fixture.ts'
import { contentCid, eventually, StatusCluster } from './support/status-cluster.ts'

let cluster: StatusCluster | undefined
let closers: (() => Promise<unknown>)[] = []

afterEach(async () => {
  for (const close of closers) await close()
  closers = []
  await cluster?.stop()
  cluster = undefined
})

/** The service's app (its routes, error handler and 404) with the status routes registered. */
async function appWith(routeCluster: RouteCluster) {
  const fixture = await apiFixture()
  const app = createApp({
    context: {
      consensus: fixture.consensus,
      peername: 'alpha',
      version: '9.9.9',
      addresses: () => [],
      peerAddresses: async () => [],
      remoteId: async () => {
        throw new Error('not used')
      },
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      peerTimeout: 1000,
      now: () => 0,
      logger: pino({ level: 'silent' }),
    },
  })
  await fixture.app.close()
  app.register(pinStatusRoutes, {
    cluster: routeCluster,
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    now: () => Date.parse('2030-01-02T03:04:05Z'),
  })
  await app.ready()
  closers.push(() => app.close())
  return { app, consensus: fixture.consensus }
}

async function started(count: number) {
  cluster = new StatusCluster()
  const peers = await cluster.start(count)
  const { app, consensus } = await appWith(peers[0]!.cluster)
  return { peers, app, consensus, cluster }
}

type GlobalJson = {
  cid: string
  name: string
  peer_map: Record<string, { peername: string; status: string; error: string }>
  [field: string]: unknown
}

function lines(body: string): GlobalJson[] {
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as GlobalJson)
}

function byName(global: GlobalJson): Record<string, string> {
  return Object.fromEntries(
    Object.values(global.peer_map).map((entry) => [entry.peername, entry.status]),
  )
}

describe('GET /pins/{cid}', () => {
  it('answers 1.x’s GlobalPinInfo with every peer’s status', async () => {
    const { app, cluster } = await started(2)
    const cid = await cluster.pinEverywhere('hello', 'docs')
    const response = await app.inject({ method: 'GET', url: `/pins/${cid}` })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    const body = JSON.parse(response.body) as GlobalJson
    expect(Object.keys(body)).toEqual([
      'cid',
      'name',
      'allocations',
      'origins',
      'created',
      'metadata',
      'peer_map',
    ])
    expect(body).toMatchObject({
      cid: cid.toString(),
      name: 'docs',
      created: '2030-01-02T03:04:05Z',
    })
    expect(byName(body)).toEqual({ peer1: 'pinned', peer2: 'pinned' })
    const entry = Object.values(body.peer_map)[0]!
    expect(Object.keys(entry)).toEqual([
      'peername',
      'ipfs_peer_id',
      'ipfs_peer_addresses',
      'status',
      'timestamp',
      'error',
      'attempt_count',
      'priority_pin',
    ])
  })

  it('answers only this peer with ?local=true', async () => {
    const { app, cluster, peers } = await started(2)
    const cid = await cluster.pinEverywhere('local only')
    const body = JSON.parse(
      (await app.inject({ url: `/pins/${cid}?local=true` })).body,
    ) as GlobalJson
    expect(Object.keys(body.peer_map)).toEqual([peers[0]!.id])
  })

  it('answers unpinned on every member for a CID outside the pinset, as 1.x', async () => {
    const { app } = await started(2)
    const cid = await contentCid('not pinned')
    const response = await app.inject({ url: `/pins/${cid}` })
    expect(response.statusCode).toBe(200)
    // This peer knows its own name; the other is not asked (1.x answers without asking).
    expect(byName(JSON.parse(response.body) as GlobalJson)).toEqual({
      peer1: 'unpinned',
      '': 'unpinned',
    })
    expect(Object.keys((JSON.parse(response.body) as GlobalJson).peer_map)).toHaveLength(2)
  })

  it('refuses an invalid CID with 400 and what was wrong', async () => {
    const { app } = await started(1)
    const response = await app.inject({ url: '/pins/bafy-not-a-cid' })
    expect(response.statusCode).toBe(400)
    expect(JSON.parse(response.body)).toEqual({
      code: 400,
      message: expect.stringMatching(/^error decoding Cid: invalid CID "bafy-not-a-cid"/),
    })
  })

  it('shows a stopped peer as cluster_error with the reason', async () => {
    const { app, cluster, peers } = await started(2)
    const cid = await cluster.pinEverywhere('peer down')
    await cluster.kill(peers[1]!)
    const body = JSON.parse((await app.inject({ url: `/pins/${cid}` })).body) as GlobalJson
    const down = body.peer_map[peers[1]!.id]!
    expect(down.status).toBe('cluster_error')
    expect(down.error).not.toBe('')
  })
})

describe('GET /pins', () => {
  it('streams one GlobalPinInfo per line with an empty X-Stream-Error trailer', async () => {
    const { app, cluster } = await started(2)
    const cids = [await cluster.pinEverywhere('a'), await cluster.pinEverywhere('b')]
    const response = await app.inject({ url: '/pins' })
    expect(response.statusCode).toBe(200)
    expect(response.headers.trailer).toMatch(/x-stream-error/i)
    expect(response.trailers['x-stream-error']).toBe('')
    const all = lines(response.body)
    expect(all.map((global) => global.cid).sort()).toEqual(cids.map(String).sort())
    for (const global of all) expect(byName(global)).toEqual({ peer1: 'pinned', peer2: 'pinned' })
  })

  it('filters by status, and refuses an unknown status with 400', async () => {
    const { app, cluster, peers } = await started(2)
    const kept = await cluster.pinEverywhere('kept')
    const lost = await cluster.pinEverywhere('lost')
    peers[1]!.connector.removePinBehindTheBack(lost)
    const filtered = lines((await app.inject({ url: '/pins?filter=unexpectedly_unpinned' })).body)
    expect(filtered.map((global) => [global.cid, byName(global)])).toEqual([
      [lost.toString(), { peer2: 'unexpectedly_unpinned' }],
    ])
    const local = lines((await app.inject({ url: '/pins?local=true&filter=pinned' })).body)
    expect(local.map((global) => global.cid).sort()).toEqual([kept, lost].map(String).sort())
    const bad = await app.inject({ url: '/pins?filter=pinned,sleeping' })
    expect(bad.statusCode).toBe(400)
    expect(JSON.parse(bad.body).message).toMatch(/invalid filter value "sleeping"/)
  })

  it('answers the CIDs of ?cids= in order, and 400 for any invalid one', async () => {
    const { app, cluster } = await started(1)
    const a = await cluster.pinEverywhere('cids a')
    const b = await contentCid('cids b, not pinned')
    const response = await app.inject({ url: `/pins?cids=${b},${a}` })
    expect(lines(response.body).map((global) => [global.cid, byName(global)])).toEqual([
      [b.toString(), { peer1: 'unpinned' }],
      [a.toString(), { peer1: 'pinned' }],
    ])
    const bad = await app.inject({ url: `/pins?cids=${a},nope` })
    expect(bad.statusCode).toBe(400)
    expect(JSON.parse(bad.body).message).toMatch(/^error decoding Cid: invalid CID "nope"/)
  })

  it('answers 204 when nothing matches', async () => {
    const { app } = await started(1)
    const response = await app.inject({ url: '/pins' })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
  })

  it('answers 500 with the error when the stream fails before its first line', async () => {
    const { app, peers } = await started(1)
    peers[0]!.connector.offline = new Error('connect ECONNREFUSED 127.0.0.1:5001')
    await cluster!.pinEverywhere('x').catch(() => {})
    const response = await app.inject({ url: '/pins?local=true' })
    expect(response.statusCode).toBe(500)
    expect(JSON.parse(response.body)).toEqual({
      code: 500,
      message: 'could not get pinset from IPFS: connect ECONNREFUSED 127.0.0.1:5001',
    })
  })

  it('puts an error after the first line in the X-Stream-Error trailer', async () => {
    cluster = new StatusCluster()
    const [peer] = await cluster.start(1)
    await cluster.pinEverywhere('first line')
    const real = peer!.cluster
    const failing: RouteCluster = Object.assign(Object.create(real) as RouteCluster, {
      async *statusAll(): AsyncGenerator<GlobalPinInfo> {
        for await (const global of real.statusAll()) yield global
        throw new Error('peer 12D3KooWX: stream reset')
      },
    })
    const { app } = await appWith(failing)
    const response = await app.inject({ url: '/pins' })
    expect(response.statusCode).toBe(200)
    expect(lines(response.body)).toHaveLength(1)
    expect(response.trailers['x-stream-error']).toBe('peer 12D3KooWX: stream reset')
  })

  it('writes each line as it is produced, before the stream ends', async () => {
    cluster = new StatusCluster()
    const [peer] = await cluster.start(1)
    await cluster.pinEverywhere('streamed')
    const real = peer!.cluster
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const slow: RouteCluster = Object.assign(Object.create(real) as RouteCluster, {
      async *statusAll(): AsyncGenerator<GlobalPinInfo> {
        for await (const global of real.statusAll()) yield global
        await held
      },
    })
    const app = fastify()
    app.setErrorHandler(handleError(pino({ level: 'silent' })))
    app.register(pinStatusRoutes, {
      cluster: slow,
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      now: () => 0,
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    closers.push(() => app.close())
    const { port } = app.server.address() as AddressInfo
    const response = await fetch(`http://127.0.0.1:${port}/pins`)
    const reader = response.body!.getReader()
    const chunk = await reader.read()
    // The first line arrived while the source is still held open.
    expect(new TextDecoder().decode(chunk.value)).toMatch(/"status":"pinned"/)
    release()
    while (!(await reader.read()).done) {
      // drain
    }
  })
})

describe('recover', () => {
  it('POST /pins/{cid}/recover re-pins what a peer lost', async () => {
    const { app, cluster, peers } = await started(2)
    const cid = await cluster.pinEverywhere('recover me')
    peers[1]!.connector.removePinBehindTheBack(cid)
    const response = await app.inject({ method: 'POST', url: `/pins/${cid}/recover` })
    expect(response.statusCode).toBe(200)
    expect(['pinning', 'pin_queued', 'pinned']).toContain(
      byName(JSON.parse(response.body) as GlobalJson).peer2,
    )
    await eventually(async () => peers[1]!.connector.isPinned(cid))
  })

  it('POST /pins/recover streams what was retried and is not a pin of the CID "recover"', async () => {
    const { app, cluster, peers, consensus } = await started(1)
    const cid = await cluster.pinEverywhere('recover all')
    const none = await app.inject({ method: 'POST', url: '/pins/recover?local=true' })
    expect(none.statusCode).toBe(204)
    peers[0]!.connector.removePinBehindTheBack(cid)
    const response = await app.inject({ method: 'POST', url: '/pins/recover' })
    expect(response.statusCode).toBe(200)
    expect(lines(response.body).map((global) => global.cid)).toEqual([cid.toString()])
    expect(consensus.calls.filter((call) => call.method === 'logPin')).toEqual([])
  })
})

describe('pins by IPFS path', () => {
  it('pins and unpins the CID a path resolves to', async () => {
    const { app, cluster, peers } = await started(1)
    const root = await contentCid('root')
    const target = await contentCid('target')
    peers[0]!.connector.setResolution(`/ipfs/${root}/docs/readme`, target)
    // As 1.x's router: a trailing slash is redirected (307 keeps the method) to the path without.
    const redirected = await app.inject({
      method: 'POST',
      url: `/pins/ipfs/${root}/docs/readme/?name=readme&replication-min=1&replication-max=2`,
    })
    expect(redirected.statusCode).toBe(307)
    expect(redirected.headers.location).toBe(
      `/pins/ipfs/${root}/docs/readme?name=readme&replication-min=1&replication-max=2`,
    )
    const pinned = await app.inject({
      method: 'POST',
      url: String(redirected.headers.location),
    })
    expect(pinned.statusCode).toBe(200)
    expect(JSON.parse(pinned.body)).toMatchObject({
      cid: target.toString(),
      name: 'readme',
      replication_factor_min: 1,
      replication_factor_max: 2,
    })
    expect(cluster.group.pinset.get(target)?.name).toBe('readme')
    const unpinned = await app.inject({ method: 'DELETE', url: `/pins/ipfs/${root}/docs/readme` })
    expect(unpinned.statusCode).toBe(200)
    expect(cluster.group.pinset.has(target)).toBe(false)
    const again = await app.inject({ method: 'DELETE', url: `/pins/ipfs/${root}/docs/readme` })
    expect(again.statusCode).toBe(404)
  })

  it('refuses a path that does not parse or does not resolve, with 400 and the reason', async () => {
    const { app } = await started(1)
    const badRoot = await app.inject({ method: 'POST', url: '/pins/ipfs/not-a-cid/x' })
    expect(badRoot.statusCode).toBe(400)
    expect(JSON.parse(badRoot.body).message).toMatch(/^error parsing path: invalid CID "not-a-cid"/)
    const missing = await app.inject({ method: 'POST', url: '/pins/ipns/docs.example.org' })
    expect(missing.statusCode).toBe(400)
    expect(JSON.parse(missing.body).message).toBe(
      'could not resolve /ipns/docs.example.org: could not resolve /ipns/docs.example.org: no such path',
    )
    const badOption = await app.inject({
      method: 'POST',
      url: `/pins/ipfs/${await contentCid('r')}?mode=deep`,
    })
    expect(badOption.statusCode).toBe(400)
  })
})
