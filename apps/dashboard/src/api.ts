import type {
  AddedOutput,
  Alert,
  ConnectGraph,
  GlobalPinInfo,
  Metric,
  PeerId,
  RaftStatus,
} from './api-types.ts'
import { NdjsonDecoder, readNdjson } from './ndjson.ts'

/** A route this peer does not serve (404): the page says so instead of failing. */
export class NotAvailableError extends Error {
  static readonly code = 'NotAvailableError'
  override readonly name = 'NotAvailableError'
}

/** The API answered an error: its `{code, message}`, or the status when it had no body. */
export class ApiError extends Error {
  static readonly code = 'ApiError'
  override readonly name = 'ApiError'
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

async function failure(response: Response, what: string): Promise<Error> {
  let message = `${what}: ${response.status} ${response.statusText}`
  try {
    const body = (await response.json()) as { message?: unknown }
    if (typeof body.message === 'string' && body.message !== '') message = body.message
  } catch {
    // No JSON body: the status says it.
  }
  if (response.status === 404) return new NotAvailableError(message)
  return new ApiError(response.status, message)
}

/** Upload progress of `POST /add`: bytes sent of the request body. */
export interface UploadProgress {
  readonly loaded: number
  readonly total: number
}

/** At most this many pins are read for the counts and lists (the stream is cut after). */
export const pinListLimit = 10_000

/**
 * The calls the page makes, all to this peer's public API (same origin, so the browser sends
 * the basic auth the page was opened with). Every call takes an `AbortSignal`.
 */
export class DashboardApi {
  readonly #base: string

  constructor(base = '') {
    this.#base = base
  }

  async #get(path: string, signal?: AbortSignal): Promise<Response> {
    const response = await fetch(`${this.#base}${path}`, {
      signal,
      headers: { accept: 'application/json' },
    })
    if (!response.ok && response.status !== 204) throw await failure(response, `GET ${path}`)
    return response
  }

  async #json<T>(path: string, signal?: AbortSignal): Promise<T> {
    return (await (await this.#get(path, signal)).json()) as T
  }

  async #lines<T>(path: string, signal?: AbortSignal, limit = pinListLimit) {
    const response = await this.#get(path, signal)
    if (response.status === 204) return { values: [] as T[], truncated: false }
    const { values, truncated } = await readNdjson(response.body, limit)
    return { values: values as T[], truncated }
  }

  async #send(method: string, path: string, signal?: AbortSignal): Promise<Response> {
    const response = await fetch(`${this.#base}${path}`, { method, signal })
    if (!response.ok) throw await failure(response, `${method} ${path}`)
    return response
  }

  id(signal?: AbortSignal): Promise<PeerId> {
    return this.#json('/id', signal)
  }

  async peers(signal?: AbortSignal): Promise<PeerId[]> {
    return (await this.#lines<PeerId>('/peers', signal)).values
  }

  async raftStatus(signal?: AbortSignal): Promise<RaftStatus[]> {
    return (await this.#lines<RaftStatus>('/raft/status?all=true', signal)).values
  }

  /** Readiness: null when ready, else the reason the peer gave. */
  async ready(signal?: AbortSignal): Promise<string | null> {
    const response = await fetch(`${this.#base}/health/ready`, { signal })
    if (response.status === 204) return null
    const body = (await response.json().catch(() => ({}))) as { message?: string }
    return body.message ?? `${response.status}`
  }

  pins(signal?: AbortSignal, filter?: string) {
    const query = filter === undefined ? '' : `?filter=${encodeURIComponent(filter)}`
    return this.#lines<GlobalPinInfo>(`/pins${query}`, signal)
  }

  pin(cid: string, signal?: AbortSignal): Promise<GlobalPinInfo> {
    return this.#json(`/pins/${encodeURIComponent(cid)}`, signal)
  }

  async metrics(signal?: AbortSignal): Promise<string> {
    return (await this.#get('/metrics', signal)).text()
  }

  graph(signal?: AbortSignal): Promise<ConnectGraph> {
    return this.#json('/health/graph', signal)
  }

  async monitorMetrics(name: string, signal?: AbortSignal): Promise<Metric[]> {
    const response = await this.#get(`/monitor/metrics/${encodeURIComponent(name)}`, signal)
    if (response.status === 204) return []
    return (await response.json()) as Metric[]
  }

  async alerts(signal?: AbortSignal): Promise<Alert[]> {
    const response = await this.#get('/health/alerts', signal)
    if (response.status === 204) return []
    return (await response.json()) as Alert[]
  }

  async addPin(
    cid: string,
    options: { name: string; replicationMin: number; replicationMax: number },
    signal?: AbortSignal,
  ): Promise<void> {
    const query = new URLSearchParams()
    if (options.name !== '') query.set('name', options.name)
    query.set('replication-min', String(options.replicationMin))
    query.set('replication-max', String(options.replicationMax))
    await this.#send('POST', `/pins/${encodeURIComponent(cid)}?${query}`, signal)
  }

  async removePin(cid: string, signal?: AbortSignal): Promise<void> {
    await this.#send('DELETE', `/pins/${encodeURIComponent(cid)}`, signal)
  }

  async recover(cid: string, signal?: AbortSignal): Promise<GlobalPinInfo> {
    return (await this.#send('POST', `/pins/${encodeURIComponent(cid)}/recover`, signal)).json()
  }

  async removePeer(peer: string, signal?: AbortSignal): Promise<void> {
    await this.#send('DELETE', `/peers/${encodeURIComponent(peer)}`, signal)
  }

  /**
   * `POST /add` with one file, through XMLHttpRequest: fetch has no upload progress. Resolves
   * with the AddedOutput lines (the root last).
   */
  add(
    file: File,
    options: { name: string; pin: boolean },
    onProgress: (progress: UploadProgress) => void,
    signal?: AbortSignal,
  ): Promise<AddedOutput[]> {
    const query = new URLSearchParams()
    if (options.name !== '') query.set('name', options.name)
    if (!options.pin) query.set('no-pin', 'true')
    const form = new FormData()
    form.append('file', file, encodeURIComponent(file.name))
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest()
      request.open('POST', `${this.#base}/add?${query}`)
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) onProgress({ loaded: event.loaded, total: event.total })
      })
      request.addEventListener('load', () => {
        if (request.status < 200 || request.status >= 300) {
          let message = `POST /add: ${request.status} ${request.statusText}`
          try {
            const body = JSON.parse(request.responseText) as { message?: string }
            if (typeof body.message === 'string') message = body.message
          } catch {
            // The status says it.
          }
          reject(new ApiError(request.status, message))
          return
        }
        try {
          const decoder = new NdjsonDecoder()
          const lines = [...decoder.push(request.responseText), ...decoder.end()] as AddedOutput[]
          // An error after the first line is in the X-Stream-Error trailer, which XMLHttpRequest
          // cannot read; without a line naming a CID the add did not finish.
          const added = lines.filter((line) => line.cid !== null)
          if (added.length === 0)
            throw new ApiError(
              request.status,
              `POST /add: the peer ended the upload without adding ${file.name}; its log says why`,
            )
          resolve(added)
        } catch (error) {
          reject(error)
        }
      })
      request.addEventListener('error', () =>
        reject(new Error('POST /add: the peer could not be reached')),
      )
      request.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')))
      signal?.addEventListener('abort', () => request.abort(), { once: true })
      request.send(form)
    })
  }
}
