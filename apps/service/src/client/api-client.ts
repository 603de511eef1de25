import { ApiResponseError, ApiUnreachableError } from '../errors.ts'
import type { IdJson } from '../http/id-json.ts'
import type {
  AlertJson,
  BandwidthByProtocolJson,
  ConnectGraphJson,
  MetricJson,
} from './health-json.ts'
import { pinQueryString } from './pin-query.ts'

/** A pin as the API returns it (IPFS Cluster's JSON). */
export interface PinJson {
  cid: string
  name: string
  mode: string
  type: string
  replication_factor_min: number
  replication_factor_max: number
  allocations: string[] | null
  user_allocations: string[] | null
  expire_at: string
  metadata: Record<string, string> | null
  max_depth: number
  timestamp: string
  [field: string]: unknown
}

export interface PinOptions {
  name?: string
  mode?: 'recursive' | 'direct'
  replicationMin?: number
  replicationMax?: number
  metadata?: Record<string, string>
  /** A Go duration (`"24h"`). */
  expireIn?: string
  /** Peer IDs to allocate the pin to first (`user-allocations`). */
  userAllocations?: readonly string[]
  /** `pin-update`: the CID of the existing pin whose options the new pin takes. */
  pinUpdate?: string
}

export interface ApiClientInit {
  /**
   * `http://127.0.0.1:9094`, or several: tried in order while they cannot be reached (ctl's
   * `--host a,b,c` failover); an answer with an HTTP status, even an error, ends the search.
   */
  readonly baseUrl: string | readonly string[]
  /** `user:password` */
  readonly basicAuth?: string
  /** Milliseconds for each request. */
  readonly timeout?: number
  readonly fetch?: typeof fetch
  /** `--debug`: each request and its status, to stderr. */
  readonly debug?: (line: string) => void
}

/** An HTTP client of the REST API (any IPFS Cluster 1.x compatible peer), for the CLI. */
export class ApiClient {
  /** The API that answered last (the first one until a request was made). */
  baseUrl: string
  readonly baseUrls: readonly string[]
  /** `user:password` as resolved from the flags and the environment, for clients that stream. */
  readonly basicAuth: string | undefined
  /** The fetch to use for this API (it carries `--no-check-certificate`). */
  readonly fetch: typeof fetch
  readonly #authorization: string | undefined
  readonly #timeout: number
  readonly #fetch: typeof fetch
  readonly #debug: ((line: string) => void) | undefined

  constructor(init: ApiClientInit) {
    const urls = typeof init.baseUrl === 'string' ? [init.baseUrl] : [...init.baseUrl]
    if (urls.length === 0) throw new TypeError('ApiClient needs at least one base URL')
    this.baseUrls = urls.map((url) => url.replace(/\/+$/, ''))
    this.baseUrl = this.baseUrls[0]!
    this.#debug = init.debug
    this.#authorization =
      init.basicAuth === undefined
        ? undefined
        : `Basic ${Buffer.from(init.basicAuth).toString('base64')}`
    this.#timeout = init.timeout ?? 60_000
    this.#fetch = init.fetch ?? fetch
    this.basicAuth = init.basicAuth
    this.fetch = this.#fetch
  }

  async #request(
    method: string,
    path: string,
    options?: { signal?: AbortSignal },
  ): Promise<Response> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.#timeout),
      ...(options?.signal === undefined ? [] : [options.signal]),
    ])
    let response: Response | undefined
    const failures: string[] = []
    for (const baseUrl of this.baseUrls) {
      try {
        this.#debug?.(`${method} ${baseUrl}${path}`)
        response = await this.#fetch(`${baseUrl}${path}`, {
          method,
          signal,
          headers: this.#authorization === undefined ? {} : { authorization: this.#authorization },
        })
        this.baseUrl = baseUrl
        this.#debug?.(`${response.status} ${response.statusText} from ${baseUrl}${path}`)
        break
      } catch (error) {
        const cause =
          (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message
        this.#debug?.(`${baseUrl}${path}: ${cause}`)
        failures.push(`${baseUrl} (${cause})`)
        if (signal.aborted) break
      }
    }
    if (response === undefined) {
      throw new ApiUnreachableError(
        `cannot reach the pinraft API at ${failures.join(', ')}: is \`pinraft daemon\` running there? Point --host at another peer's API otherwise`,
      )
    }
    if (response.ok) return response
    const text = await response.text()
    let message = text.trim() || response.statusText
    try {
      const body = JSON.parse(text) as { message?: unknown }
      if (typeof body.message === 'string') message = body.message
    } catch {
      // Not JSON: keep the text.
    }
    throw new ApiResponseError(response.status, `${response.status}: ${message}`)
  }

  async #json<T>(method: string, path: string): Promise<T> {
    const response = await this.#request(method, path)
    return (await response.json()) as T
  }

  /** IPFS Cluster streams lists as one JSON value per line (204 when empty). */
  async #lines<T>(path: string): Promise<T[]> {
    const response = await this.#request('GET', path)
    if (response.status === 204) return []
    const text = await response.text()
    const values = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T)
    const streamError = response.headers.get('x-stream-error')
    if (streamError !== null && streamError !== '')
      throw new ApiResponseError(500, `the stream failed: ${streamError}`)
    return values
  }

  id(): Promise<IdJson> {
    return this.#json('GET', '/id')
  }

  async version(): Promise<string> {
    return (await this.#json<{ version: string }>('GET', '/version')).version
  }

  peers(): Promise<IdJson[]> {
    return this.#lines('/peers')
  }

  async removePeer(peerId: string): Promise<void> {
    await this.#request('DELETE', `/peers/${encodeURIComponent(peerId)}`)
  }

  pin(cid: string, options: PinOptions = {}): Promise<PinJson> {
    return this.#json('POST', `/pins/${encodeURIComponent(cid)}${pinQueryString(options)}`)
  }

  unpin(cid: string): Promise<PinJson> {
    return this.#json('DELETE', `/pins/${encodeURIComponent(cid)}`)
  }

  allocations(): Promise<PinJson[]> {
    return this.#lines('/allocations')
  }

  /**
   * The pinset as the API streams it, one pin at a time, so a large one is never held whole.
   * Throws `ApiResponseError` if the stream reports an error at its end (`X-Stream-Error`).
   */
  async *streamAllocations(options?: { signal?: AbortSignal }): AsyncGenerator<PinJson> {
    const response = await this.#request('GET', '/allocations', options)
    if (response.status === 204 || response.body === null) return
    const decoder = new TextDecoder()
    let pending = ''
    for await (const chunk of response.body) {
      pending += decoder.decode(chunk, { stream: true })
      let newline = pending.indexOf('\n')
      while (newline >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        if (line.trim() !== '') yield JSON.parse(line) as PinJson
        newline = pending.indexOf('\n')
      }
    }
    pending += decoder.decode()
    if (pending.trim() !== '') yield JSON.parse(pending) as PinJson
  }

  allocation(cid: string): Promise<PinJson> {
    return this.#json('GET', `/allocations/${encodeURIComponent(cid)}`)
  }

  async metrics(): Promise<string> {
    return (await this.#request('GET', '/metrics')).text()
  }

  /** `GET /monitor/metrics`: the metric names the peer's monitor knows. */
  metricNames(): Promise<string[]> {
    return this.#json('GET', '/monitor/metrics')
  }

  /** `GET /monitor/metrics/{name}`: the latest valid metric of `name` from every peer. */
  latestMetrics(name: string): Promise<MetricJson[]> {
    return this.#json('GET', `/monitor/metrics/${encodeURIComponent(name)}`)
  }

  /** `GET /health/alerts`: the expired metrics the peer saw lately, newest first. */
  alerts(): Promise<AlertJson[]> {
    return this.#json('GET', '/health/alerts')
  }

  /** `GET /health/graph`: who is connected to whom, cluster peers and IPFS nodes. */
  connectGraph(): Promise<ConnectGraphJson> {
    return this.#json('GET', '/health/graph')
  }

  /** `GET /health/bandwidth`: the peer's libp2p traffic per protocol. */
  bandwidthByProtocol(): Promise<BandwidthByProtocolJson> {
    return this.#json('GET', '/health/bandwidth')
  }
}
