import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createInterface } from 'node:readline'
import { ApiResponseError, ApiUnreachableError, UsageError } from '../errors.ts'
import type { PinJson, PinOptions } from './api-client.ts'
import { pinQueryString } from './pin-query.ts'

/** One peer's entry of a GlobalPinInfo, as the API writes it (1.x's PinInfoShort). */
export interface PinInfoShortJson {
  peername: string
  ipfs_peer_id?: string
  ipfs_peer_addresses?: string[]
  status: string
  timestamp: string
  error: string
  attempt_count: number
  priority_pin: boolean
}

/** The cluster-wide status of a CID, as the API writes it (1.x's GlobalPinInfo). */
export interface GlobalPinInfoJson {
  cid: string
  name: string
  allocations: string[] | null
  origins: string[] | null
  created: string
  metadata: Record<string, string> | null
  peer_map: Record<string, PinInfoShortJson>
}

export interface StatusClientInit {
  /**
   * `http://127.0.0.1:9094`, or several: tried in order while the request cannot be delivered
   * (ctl's `--host a,b,c` failover); an answer with an HTTP status, even an error, ends the search.
   */
  readonly baseUrl: string | readonly string[]
  /** `user:password` */
  readonly basicAuth?: string
  /** Milliseconds for each request (a stream may take longer: this bounds each line). */
  readonly timeout?: number
  /** false with `--no-check-certificate`: an HTTPS API's certificate is not verified. */
  readonly checkCertificate?: boolean
}

export interface LocalOption {
  readonly local?: boolean
  readonly signal?: AbortSignal
}

/**
 * A client of the status and recover routes (`GET /pins`, `GET /pins/{cid}`, `POST
 * /pins/{cid}/recover`, `POST /pins/recover`) of any IPFS Cluster 1.x compatible API. Streams
 * are read line by line, and the `X-Stream-Error` trailer is checked at their end, which is why
 * it speaks node:http rather than fetch (which does not expose trailers).
 */
export class StatusClient {
  /** The API that answered last (the first one until a request was made). */
  baseUrl: string
  readonly baseUrls: readonly string[]
  readonly #authorization: string | undefined
  readonly #timeout: number
  readonly #checkCertificate: boolean

  constructor(init: StatusClientInit) {
    const urls = typeof init.baseUrl === 'string' ? [init.baseUrl] : [...init.baseUrl]
    if (urls.length === 0) throw new TypeError('StatusClient needs at least one base URL')
    this.baseUrls = urls.map((url) => url.replace(/\/+$/, ''))
    this.baseUrl = this.baseUrls[0]!
    this.#authorization =
      init.basicAuth === undefined || init.basicAuth === ''
        ? undefined
        : `Basic ${Buffer.from(init.basicAuth).toString('base64')}`
    this.#timeout = init.timeout ?? 60_000
    this.#checkCertificate = init.checkCertificate !== false
  }

  /**
   * Sends a body-less request to each API in turn until one answers. Every request this client
   * makes is idempotent in IPFS Cluster (a status, a recover, a pin or unpin of the same CID), so
   * any failure before an answer moves on to the next host, as ctl's failover client does.
   */
  async #send(method: string, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const failures: string[] = []
    for (const baseUrl of this.baseUrls) {
      try {
        const response = await this.#sendTo(baseUrl, method, path, signal)
        this.baseUrl = baseUrl
        return response
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason
        failures.push(`${baseUrl} (${(error as Error).message})`)
      }
    }
    throw new ApiUnreachableError(
      `cannot reach the pinraft API at ${failures.join(', ')}: is \`pinraft daemon\` running there? Point --host at another peer's API otherwise`,
    )
  }

  #sendTo(
    baseUrl: string,
    method: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL(`${baseUrl}${path}`)
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const outgoing = request(url, {
        method,
        rejectUnauthorized: this.#checkCertificate,
        headers: this.#authorization === undefined ? {} : { authorization: this.#authorization },
        signal,
        timeout: this.#timeout,
      })
      outgoing.once('timeout', () =>
        outgoing.destroy(new Error(`no answer within ${this.#timeout / 1000}s`)),
      )
      outgoing.once('error', reject)
      outgoing.once('response', resolve)
      outgoing.end()
    })
  }

  async #failure(response: IncomingMessage): Promise<ApiResponseError> {
    let text = ''
    for await (const chunk of response) text += String(chunk)
    let message = text.trim() || response.statusMessage || 'error'
    try {
      const body = JSON.parse(text) as { message?: unknown }
      if (typeof body.message === 'string') message = body.message
    } catch {
      // Not JSON: keep the text.
    }
    const status = response.statusCode ?? 0
    return new ApiResponseError(status, `${status}: ${message}`)
  }

  async #one(method: string, path: string, signal?: AbortSignal): Promise<GlobalPinInfoJson> {
    const response = await this.#send(method, path, signal)
    if ((response.statusCode ?? 0) >= 400) throw await this.#failure(response)
    let text = ''
    for await (const chunk of response) text += String(chunk)
    return JSON.parse(text) as GlobalPinInfoJson
  }

  /** 1.x's streamed lists: one object per line, 204 when empty, errors in `X-Stream-Error`. */
  async *#lines(
    method: string,
    path: string,
    signal?: AbortSignal,
  ): AsyncGenerator<GlobalPinInfoJson> {
    const response = await this.#send(method, path, signal)
    if ((response.statusCode ?? 0) >= 400) throw await this.#failure(response)
    if (response.statusCode === 204) {
      response.resume()
      return
    }
    const reader = createInterface({ input: response, crlfDelay: Number.POSITIVE_INFINITY })
    try {
      for await (const line of reader) {
        if (line.trim() === '') continue
        yield JSON.parse(line) as GlobalPinInfoJson
      }
    } finally {
      reader.close()
    }
    const streamError = response.trailers['x-stream-error']
    if (streamError !== undefined && streamError !== '') {
      throw new ApiResponseError(500, `the stream failed: ${streamError}`)
    }
  }

  status(cid: string, options: LocalOption = {}): Promise<GlobalPinInfoJson> {
    return this.#one('GET', `/pins/${encodeURIComponent(cid)}${local(options)}`, options.signal)
  }

  statusCids(
    cids: readonly string[],
    options: LocalOption = {},
  ): AsyncGenerator<GlobalPinInfoJson> {
    const query = new URLSearchParams({ cids: cids.join(',') })
    if (options.local === true) query.set('local', 'true')
    return this.#lines('GET', `/pins?${query.toString()}`, options.signal)
  }

  statusAll(options: LocalOption & { filter?: string } = {}): AsyncGenerator<GlobalPinInfoJson> {
    const query = new URLSearchParams()
    if (options.filter !== undefined && options.filter !== '') query.set('filter', options.filter)
    if (options.local === true) query.set('local', 'true')
    const suffix = query.size === 0 ? '' : `?${query.toString()}`
    return this.#lines('GET', `/pins${suffix}`, options.signal)
  }

  recover(cid: string, options: LocalOption = {}): Promise<GlobalPinInfoJson> {
    return this.#one(
      'POST',
      `/pins/${encodeURIComponent(cid)}/recover${local(options)}`,
      options.signal,
    )
  }

  recoverAll(options: LocalOption = {}): AsyncGenerator<GlobalPinInfoJson> {
    return this.#lines('POST', `/pins/recover${local(options)}`, options.signal)
  }

  async #pin(method: string, path: string): Promise<PinJson> {
    const response = await this.#send(method, path)
    if ((response.statusCode ?? 0) >= 400) throw await this.#failure(response)
    let text = ''
    for await (const chunk of response) text += String(chunk)
    return JSON.parse(text) as PinJson
  }

  /** `pin add /ipfs/<cid>/path`: the peer resolves the path, then pins the CID it names. */
  async pinPath(path: string, options: PinOptions = {}): Promise<PinJson> {
    return this.#pin('POST', `${pathRoute(path)}${pinQueryString(options)}`)
  }

  /** `pin rm /ipfs/<cid>/path`. */
  async unpinPath(path: string): Promise<PinJson> {
    return this.#pin('DELETE', pathRoute(path))
  }
}

const pathPattern = /^\/(ipfs|ipns|ipld)\/[^/]/

/** Whether a `pin add` / `pin rm` argument is an IPFS path rather than a CID. */
export function isIpfsPath(argument: string): boolean {
  return pathPattern.test(argument)
}

function pathRoute(path: string): string {
  if (!isIpfsPath(path)) {
    throw new UsageError(
      `${JSON.stringify(path)} is not an IPFS path: give /ipfs/<cid>[/sub/path], /ipns/<name>[/…] or /ipld/<cid>[/…]`,
    )
  }
  // Each segment is escaped, the slashes between them kept.
  return `/pins${path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/')}`
}

function local(options: LocalOption): string {
  return options.local === true ? '?local=true' : ''
}
