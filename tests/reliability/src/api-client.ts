import type { Operation, Outcome, ReadConsistency } from './history.ts'

/** One peer's HTTP API, e.g. `{ node: 'peer-2', url: 'http://10.250.0.12:9094' }`. */
export interface ApiEndpoint {
  readonly node: string
  readonly url: string
}

/** What the history records of one call. */
export interface CallResult {
  readonly outcome: Outcome
  readonly value?: Operation['value']
  readonly detail?: string
}

export interface ApiClientInit {
  readonly basicAuth?: { readonly user: string; readonly password: string }
  /** Per-call bound; a call that takes longer is abandoned and recorded as `unknown`. */
  readonly callTimeout: number
  readonly fetch?: typeof fetch
}

export interface AbortOptions {
  signal?: AbortSignal
}

/** The peer ID and membership a peer reports on `GET /id`. */
export interface PeerIdentity {
  readonly id: string
  readonly clusterPeers: readonly string[]
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as Error & { code?: unknown }).code
    if (typeof code === 'string') return code
    current = current.cause
  }
  return undefined
}

/**
 * The calls the workload makes, classified the way the checker needs them. A write is `fail`
 * only when it surely did nothing: a 4xx, or a connection refused before the request left.
 * Every 5xx (a 503 may come after the entry reached the leader, a 504 says so), a timeout or a
 * connection that broke midway is `unknown`.
 */
export class ApiClient {
  readonly #init: ApiClientInit
  readonly #fetch: typeof fetch

  constructor(init: ApiClientInit) {
    this.#init = init
    this.#fetch = init.fetch ?? fetch
  }

  async pin(endpoint: ApiEndpoint, cid: string, options: AbortOptions = {}): Promise<CallResult> {
    return this.#write(endpoint, 'POST', cid, options, (status) =>
      status === 404 ? undefined : 'pinned',
    )
  }

  /** A 404 means the peer's own state did not hold the CID: recorded as `ok` with value `absent`. */
  async unpin(endpoint: ApiEndpoint, cid: string, options: AbortOptions = {}): Promise<CallResult> {
    return this.#write(endpoint, 'DELETE', cid, options, (status) =>
      status === 404 ? 'absent' : 'unpinned',
    )
  }

  /**
   * `GET /allocations/{cid}` (with `?consistent=true` for a consistent read): 200 pinned, 404
   * unpinned; anything else saw nothing (`fail`, a read writes nothing either way).
   */
  async read(
    endpoint: ApiEndpoint,
    cid: string,
    options: AbortOptions & { consistency?: ReadConsistency } = {},
  ): Promise<CallResult> {
    const query = options.consistency === 'consistent' ? '?consistent=true' : ''
    try {
      const response = await this.#request(endpoint, 'GET', `/allocations/${cid}${query}`, options)
      const body = await response.text()
      if (response.status === 200) return { outcome: 'ok', value: 'pinned' }
      if (response.status === 404) return { outcome: 'ok', value: 'unpinned' }
      return { outcome: 'fail', detail: errorDetail(response.status, body) }
    } catch (error) {
      return { outcome: 'fail', detail: describeCallError(error) }
    }
  }

  /**
   * A consistent read of one CID through `GET /allocations?consistent=true`: the whole pinset,
   * read at one linearizable point, of which the history keeps what it says about `cid`.
   */
  async readThroughPinset(
    endpoint: ApiEndpoint,
    cid: string,
    options: AbortOptions = {},
  ): Promise<CallResult> {
    try {
      const pinset = await this.pinset(endpoint, { ...options, consistency: 'consistent' })
      return { outcome: 'ok', value: pinset.includes(cid) ? 'pinned' : 'unpinned' }
    } catch (error) {
      return { outcome: 'fail', detail: describeCallError(error) }
    }
  }

  /**
   * Every CID the peer's state holds (`GET /allocations`, one JSON pin a line, 204 when none);
   * with `consistency: 'consistent'`, read at the leader's confirmed read index.
   */
  async pinset(
    endpoint: ApiEndpoint,
    options: AbortOptions & { consistency?: ReadConsistency } = {},
  ): Promise<string[]> {
    const query = options.consistency === 'consistent' ? '?consistent=true' : ''
    const response = await this.#request(endpoint, 'GET', `/allocations${query}`, options)
    const text = await response.text()
    if (response.status === 204) return []
    if (response.status !== 200)
      throw new Error(
        `${endpoint.node}: GET /allocations${query} answered ${errorDetail(response.status, text)}`,
      )
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const pin = JSON.parse(line) as { cid?: unknown }
        const cid =
          typeof pin.cid === 'object' && pin.cid !== null
            ? (pin.cid as { '/'?: unknown })['/']
            : pin.cid
        if (typeof cid !== 'string')
          throw new Error(
            `${endpoint.node}: GET /allocations returned a pin without a cid: ${line}`,
          )
        return cid
      })
      .sort()
  }

  async identity(endpoint: ApiEndpoint, options: AbortOptions = {}): Promise<PeerIdentity> {
    const response = await this.#request(endpoint, 'GET', '/id', options)
    const body = (await response.json()) as { id?: unknown; cluster_peers?: unknown }
    if (response.status !== 200 || typeof body.id !== 'string') {
      throw new Error(`${endpoint.node}: GET /id answered HTTP ${response.status}`)
    }
    const clusterPeers = Array.isArray(body.cluster_peers)
      ? body.cluster_peers.filter((peer) => typeof peer === 'string')
      : []
    return { id: body.id, clusterPeers }
  }

  async removePeer(
    endpoint: ApiEndpoint,
    peerId: string,
    options: AbortOptions = {},
  ): Promise<number> {
    const response = await this.#request(endpoint, 'DELETE', `/peers/${peerId}`, options)
    await response.arrayBuffer()
    return response.status
  }

  /** A raw request (for the bad-input tests): the status and body as text. */
  async raw(
    endpoint: ApiEndpoint,
    method: string,
    path: string,
    options: AbortOptions & {
      headers?: Record<string, string>
      body?: string
      authenticate?: boolean
    } = {},
  ): Promise<{ status: number; body: string }> {
    const response = await this.#request(endpoint, method, path, options)
    return { status: response.status, body: await response.text() }
  }

  async #write(
    endpoint: ApiEndpoint,
    method: 'POST' | 'DELETE',
    cid: string,
    options: AbortOptions,
    value: (status: number) => Operation['value'] | undefined,
  ): Promise<CallResult> {
    try {
      const response = await this.#request(endpoint, method, `/pins/${cid}`, options)
      const body = await response.text()
      if (response.status >= 200 && response.status < 300) return okWith(value(response.status))
      if (response.status === 404 && method === 'DELETE') return okWith(value(404))
      const detail = `HTTP ${response.status} ${body.slice(0, 200)}`.trim()
      return { outcome: response.status >= 500 ? 'unknown' : 'fail', detail }
    } catch (error) {
      const refused = errorCode(error) === 'ECONNREFUSED'
      return { outcome: refused ? 'fail' : 'unknown', detail: describeCallError(error) }
    }
  }

  async #request(
    endpoint: ApiEndpoint,
    method: string,
    path: string,
    options: AbortOptions & {
      headers?: Record<string, string>
      body?: string
      authenticate?: boolean
    },
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers }
    const auth = this.#init.basicAuth
    if (auth !== undefined && options.authenticate !== false) {
      headers['authorization'] =
        `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
    }
    const timeout = AbortSignal.timeout(this.#init.callTimeout)
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    return this.#fetch(`${endpoint.url}${path}`, {
      method,
      headers,
      signal,
      ...(options.body === undefined ? {} : { body: options.body }),
    })
  }
}

/**
 * `HTTP 503 <message>` for an error in IPFS Cluster's shape (`{"code","message"}`); says so when
 * the body is not in that shape, which the API promises for every error.
 */
export function errorDetail(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown }
    if (parsed.code === status && typeof parsed.message === 'string')
      return `HTTP ${status} ${parsed.message.slice(0, 200)}`
  } catch {
    // Not JSON: reported below.
  }
  return `HTTP ${status} (not IPFS Cluster's {"code","message"} error shape) ${body.slice(0, 200)}`.trim()
}

function okWith(value: Operation['value'] | undefined): CallResult {
  return value === undefined || value === 'pinned' ? { outcome: 'ok' } : { outcome: 'ok', value }
}

/**
 * An error as a report says it: its name, message and the first `code` along its causes, so that
 * fetch's bare "fetch failed" tells a refused connection from a reset or a timeout.
 */
export function describeCallError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = errorCode(error)
  return code === undefined
    ? `${error.name}: ${error.message}`
    : `${error.name}: ${error.message} (${code})`
}
