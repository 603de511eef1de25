import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, DashboardApi, NotAvailableError } from '../src/api.ts'

/** Answers each request with the response `route` gives for its path, and records it. */
function serve(route: (path: string, init: RequestInit | undefined) => Response) {
  const requests: { path: string; method: string }[] = []
  vi.stubGlobal('fetch', async (input: string, init?: RequestInit) => {
    const path = input.replace('http://peer', '')
    requests.push({ path, method: init?.method ?? 'GET' })
    return route(path, init)
  })
  return requests
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  })
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('DashboardApi', () => {
  it('reads every member’s Raft status from the NDJSON stream of /raft/status?all=true', async () => {
    const requests = serve(
      () => new Response('{"peer":"a","role":"leader"}\n{"peer":"b","role":"voter"}\n'),
    )
    const statuses = await new DashboardApi('http://peer').raftStatus()
    expect(statuses.map((entry) => entry.role)).toEqual(['leader', 'voter'])
    expect(requests).toEqual([{ path: '/raft/status?all=true', method: 'GET' }])
  })

  it('answers no pins for a 204, and asks with the filter when one is given', async () => {
    const requests = serve(() => new Response(null, { status: 204 }))
    expect(await new DashboardApi('http://peer').pins(undefined, 'pin_error')).toEqual({
      values: [],
      truncated: false,
    })
    expect(requests[0]?.path).toBe('/pins?filter=pin_error')
  })

  it('turns a 404 into NotAvailableError, so the page can say the route is missing', async () => {
    serve(() => json({ code: 404, message: 'no route for GET /health/graph' }, 404))
    const failure = await new DashboardApi('http://peer').graph().catch((error: Error) => error)
    expect(failure).toBeInstanceOf(NotAvailableError)
    expect((failure as Error).message).toBe('no route for GET /health/graph')
  })

  it('carries the API’s {code, message} in ApiError, or the status without a body', async () => {
    serve((path) =>
      path.startsWith('/pins/')
        ? json({ code: 400, message: 'error decoding Cid: bad' }, 400)
        : new Response('', { status: 503, statusText: 'Service Unavailable' }),
    )
    const api = new DashboardApi('http://peer')
    const pin = await api
      .addPin('bad', { name: '', replicationMin: 0, replicationMax: 0 })
      .catch((error: Error) => error)
    expect(pin).toBeInstanceOf(ApiError)
    expect((pin as ApiError).status).toBe(400)
    expect((pin as Error).message).toBe('error decoding Cid: bad')
    const peers = await api.removePeer('12D3KooWx').catch((error: Error) => error)
    expect((peers as ApiError).status).toBe(503)
    expect((peers as Error).message).toBe('DELETE /peers/12D3KooWx: 503 Service Unavailable')
  })

  it('pins with the name and replication factors in the query, escaped', async () => {
    const requests = serve(() => json({}))
    await new DashboardApi('http://peer').addPin('bafyx', {
      name: 'a b&c',
      replicationMin: 1,
      replicationMax: -1,
    })
    expect(requests).toEqual([
      { path: '/pins/bafyx?name=a+b%26c&replication-min=1&replication-max=-1', method: 'POST' },
    ])
  })

  it('gives readiness as null when ready and as the peer’s reason otherwise', async () => {
    let ready = true
    serve(() =>
      ready
        ? new Response(null, { status: 204 })
        : json({ code: 503, message: 'not ready: waiting for a leader' }, 503),
    )
    const api = new DashboardApi('http://peer')
    expect(await api.ready()).toBeNull()
    ready = false
    expect(await api.ready()).toBe('not ready: waiting for a leader')
  })

  it('reads 1.x’s Metric arrays, and none for a 204', async () => {
    serve((path) =>
      path === '/monitor/metrics/freespace'
        ? json([{ name: 'freespace', peer: 'a', value: '1024', valid: true }])
        : new Response(null, { status: 204 }),
    )
    const api = new DashboardApi('http://peer')
    expect((await api.monitorMetrics('freespace'))[0]?.value).toBe('1024')
    expect(await api.alerts()).toEqual([])
  })
})
