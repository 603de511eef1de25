import type { ApiClient, ApiEndpoint } from './api-client.ts'
import { workloadCid } from './cid.ts'

/** One bad request sent to a live peer, and whether the peer refused it and kept serving. */
export interface ProbeResult {
  readonly name: string
  readonly node: string
  readonly status: number
  readonly passed: boolean
  readonly detail: string
}

interface Probe {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly body?: string
  readonly headers?: Record<string, string>
  readonly authenticate?: boolean
  /** Statuses that count as a clear refusal. */
  readonly expect: readonly number[]
}

// A CID no workload call names: if a refused call were applied anyway, the final-state check
// reports it as a pin that was never requested.
const validCid = workloadCid(-1, 0)

/**
 * Malformed input on the HTTP surface, and calls without credentials. Each must get a 4xx that
 * says what was wrong (never a 5xx, never a hang), and the peer must still answer `GET /id` after.
 */
export const httpProbes: readonly Probe[] = [
  {
    name: 'unauthenticated pin',
    method: 'POST',
    path: `/pins/${validCid}`,
    authenticate: false,
    expect: [401],
  },
  {
    name: 'unauthenticated read',
    method: 'GET',
    path: '/allocations',
    authenticate: false,
    expect: [401],
  },
  {
    name: 'wrong password',
    method: 'GET',
    path: '/id',
    authenticate: false,
    headers: { authorization: `Basic ${Buffer.from('reliability:wrong').toString('base64')}` },
    expect: [401],
  },
  { name: 'malformed CID', method: 'POST', path: '/pins/not-a-cid', expect: [400] },
  {
    name: 'CID with a bad multibase prefix',
    method: 'POST',
    path: `/pins/!${validCid.slice(1)}`,
    expect: [400],
  },
  {
    name: 'oversized CID',
    method: 'POST',
    path: `/pins/b${'a'.repeat(4000)}`,
    expect: [400, 414, 431],
  },
  {
    name: 'malformed replication factor',
    method: 'POST',
    path: `/pins/${validCid}?replication=many`,
    expect: [400],
  },
  { name: 'malformed peer ID', method: 'DELETE', path: '/peers/not-a-peer', expect: [400] },
  { name: 'unknown route', method: 'GET', path: '/nothing-here', expect: [404] },
  {
    name: 'malformed allocations filter',
    method: 'GET',
    path: '/allocations?filter=bogus',
    expect: [400],
  },
  {
    // POST /pins/{cid} ignores its body, as 1.x's does; /add is the route that reads one.
    name: 'truncated multipart body',
    method: 'POST',
    path: '/add?name=probe',
    headers: { 'content-type': 'multipart/form-data; boundary=probeboundary' },
    body: '--probeboundary\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno closing boundary',
    expect: [400],
  },
  {
    name: 'oversized header',
    method: 'GET',
    path: '/id',
    headers: { 'x-padding': 'x'.repeat(64 * 1024) },
    expect: [431, 400],
  },
]

/** Runs every probe against `endpoint`; a probe passes when the status is expected and the peer still answers. */
export async function runProbes(
  client: ApiClient,
  endpoint: ApiEndpoint,
  options: { signal?: AbortSignal } = {},
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = []
  for (const probe of httpProbes) {
    let status = 0
    let detail = ''
    try {
      const response = await client.raw(endpoint, probe.method, probe.path, {
        ...options,
        ...(probe.headers === undefined ? {} : { headers: probe.headers }),
        ...(probe.body === undefined ? {} : { body: probe.body }),
        ...(probe.authenticate === undefined ? {} : { authenticate: probe.authenticate }),
      })
      status = response.status
      detail = response.body.slice(0, 200)
    } catch (error) {
      detail = (error as Error).message
    }
    let alive = false
    try {
      alive = (await client.raw(endpoint, 'GET', '/id', options)).status === 200
    } catch {
      alive = false
    }
    results.push({
      name: probe.name,
      node: endpoint.node,
      status,
      passed: probe.expect.includes(status) && alive,
      detail: alive ? detail : `${detail}; the peer stopped answering GET /id afterwards`,
    })
  }
  return results
}
