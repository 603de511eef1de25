import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { ApiResponseError, ApiUnreachableError, UsageError } from '../errors.ts'
import type { RepoGcJson } from '../http/ipfs-context.ts'

/** One line of `/add`'s output (1.x's AddedOutput). */
export interface AddedOutputJson {
  name: string
  cid: string | null
  bytes?: number
  size?: number
  allocations?: string[]
}

export interface UploadEntry {
  /** The path inside the upload (`dir/sub/file`). */
  readonly name: string
  /** The file on disk; absent for a directory. */
  readonly file?: string
  readonly size: number
}

/**
 * What `pinraft add` uploads, in the order Kubo's client sends it: a directory before its
 * entries, entries sorted by name. Directories need `recursive`, as with `ipfs add -r`.
 */
export async function uploadEntries(
  paths: readonly string[],
  recursive: boolean,
): Promise<UploadEntry[]> {
  const entries: UploadEntry[] = []
  const walk = async (path: string, name: string): Promise<void> => {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${path}: ${error.message}`)
    })
    if (info.isDirectory()) {
      if (!recursive) throw new UsageError(`${path} is a directory: add it with -r (--recursive)`)
      entries.push({ name, size: 0 })
      const children = (await readdir(path)).sort()
      for (const child of children) await walk(join(path, child), `${name}/${child}`)
      return
    }
    if (!info.isFile()) throw new UsageError(`${path} is neither a file nor a directory`)
    entries.push({ name, file: path, size: info.size })
  }
  for (const path of paths) await walk(path, basename(path.replace(/\/+$/, '')) || path)
  return entries
}

function partHeader(boundary: string, entry: UploadEntry): string {
  const type = entry.file === undefined ? 'application/x-directory' : 'application/octet-stream'
  return `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${encodeURIComponent(entry.name)}"\r\nContent-Type: ${type}\r\n\r\n`
}

/** A multipart body streamed from disk: never more than one read chunk in memory. */
async function* multipartBody(
  boundary: string,
  entries: readonly UploadEntry[],
  onBytes: (bytes: number, file: boolean) => void,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder()
  for (const entry of entries) {
    yield encoder.encode(partHeader(boundary, entry))
    if (entry.file !== undefined) {
      for await (const chunk of createReadStream(entry.file, { highWaterMark: 256 * 1024 })) {
        onBytes((chunk as Buffer).length, false)
        yield chunk as Buffer
      }
    }
    onBytes(0, true)
    yield encoder.encode('\r\n')
  }
  yield encoder.encode(`--${boundary}--\r\n`)
}

export interface RestClientInit {
  /**
   * The API, or several tried in order (ctl's `--host a,b,c`). `addFiles` moves on only while
   * no connection was made (see there); `repoGc` on any failure before an answer.
   */
  readonly baseUrl: string | readonly string[]
  readonly basicAuth?: string
  readonly timeout: number
  /** The API client's fetch (it carries `--no-check-certificate`). */
  readonly fetch?: typeof fetch
  /** false with `--no-check-certificate`: an HTTPS API's certificate is not verified. */
  readonly checkCertificate?: boolean
}

function authorization(init: RestClientInit): Record<string, string> {
  return init.basicAuth === undefined
    ? {}
    : { authorization: `Basic ${Buffer.from(init.basicAuth).toString('base64')}` }
}

function failureOf(status: number, text: string): ApiResponseError {
  let message = text.trim() || `status ${status}`
  try {
    const body = JSON.parse(text) as { message?: unknown }
    if (typeof body.message === 'string') message = body.message
  } catch {
    // Not JSON: keep the text.
  }
  return new ApiResponseError(status, `${status}: ${message}`)
}

function baseUrls(init: RestClientInit): string[] {
  const urls = typeof init.baseUrl === 'string' ? [init.baseUrl] : [...init.baseUrl]
  if (urls.length === 0) throw new TypeError('the API client needs at least one base URL')
  return urls.map((url) => url.replace(/\/+$/, ''))
}

function causeOf(error: unknown): string {
  return (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message
}

function unreachable(failures: readonly string[]): ApiUnreachableError {
  return new ApiUnreachableError(
    `cannot reach the pinraft API at ${failures.join(', ')}: is \`pinraft daemon\` running there? Point --host at another peer's API otherwise`,
  )
}

/** The upload could not be delivered to one host; `connected` says whether any of it may have gone out. */
class AttemptError extends Error {
  readonly connected: boolean
  constructor(cause: unknown, connected: boolean) {
    super(causeOf(cause), { cause })
    this.connected = connected
  }
}

/**
 * `POST /add` as IPFS Cluster 1.x's client sends it: the files as one streamed multipart body,
 * the options in the query; yields each AddedOutput line as the peer sends it, and throws the
 * `X-Stream-Error` trailer if the peer failed after the first line (node:http, unlike fetch,
 * exposes trailers).
 */
export async function* addFiles(
  init: RestClientInit,
  entries: readonly UploadEntry[],
  query: URLSearchParams,
  onProgress: (progress: { bytes: number; files: number }) => void,
): AsyncGenerator<AddedOutputJson> {
  // Failover is safe only while no connection was made: then not one byte of the body can have
  // reached a peer, so nothing can have been added or pinned there. Once connected, a failure
  // (a reset mid-upload, a silent peer) ends the command: the first peer may have received the
  // whole upload and pinned it, and sending it again elsewhere could pin it twice.
  const failures: string[] = []
  let response: IncomingMessage | undefined
  for (const baseUrl of baseUrls(init)) {
    try {
      response = await uploadTo(baseUrl, init, entries, query, onProgress)
      break
    } catch (error) {
      const attempt = error as AttemptError
      failures.push(`${baseUrl} (${attempt.message})`)
      if (attempt.connected) throw unreachable(failures)
    }
  }
  if (response === undefined) throw unreachable(failures)
  const status = response.statusCode ?? 0
  if (status < 200 || status >= 300) {
    const chunks: Buffer[] = []
    for await (const chunk of response) chunks.push(chunk as Buffer)
    throw failureOf(status, Buffer.concat(chunks).toString('utf8'))
  }
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of response) {
    buffered += decoder.decode(chunk as Buffer, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim()
      buffered = buffered.slice(newline + 1)
      if (line !== '') yield JSON.parse(line) as AddedOutputJson
      newline = buffered.indexOf('\n')
    }
  }
  if (buffered.trim() !== '') yield JSON.parse(buffered) as AddedOutputJson
  const streamError = response.trailers['x-stream-error']
  if (streamError !== undefined && streamError !== '') {
    throw new ApiResponseError(500, `the add failed on the peer: ${streamError}`)
  }
}

/** One attempt at `POST /add` on one host: the answer's head, or an `AttemptError`. */
function uploadTo(
  baseUrl: string,
  init: RestClientInit,
  entries: readonly UploadEntry[],
  query: URLSearchParams,
  onProgress: (progress: { bytes: number; files: number }) => void,
): Promise<IncomingMessage> {
  const boundary = randomBytes(16).toString('hex')
  let bytes = 0
  let files = 0
  // A new attempt starts from nothing, also in the progress shown.
  onProgress({ bytes, files })
  const body = Readable.from(
    multipartBody(boundary, entries, (sent, fileDone) => {
      bytes += sent
      if (fileDone) files++
      onProgress({ bytes, files })
    }),
  )
  const url = new URL(`${baseUrl}/add?${query.toString()}`)
  const https = url.protocol === 'https:'
  const send = https ? httpsRequest : httpRequest
  let connected = false
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = send(url, {
      method: 'POST',
      rejectUnauthorized: init.checkCertificate !== false,
      headers: {
        ...authorization(init),
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
    })
    // Bytes piped before the socket is up wait in the request: they go out only once connected
    // (for HTTPS, once the TLS handshake is done).
    request.once('socket', (socket) => {
      if (!socket.connecting) connected = true
      else socket.once(https ? 'secureConnect' : 'connect', () => (connected = true))
    })
    request.once('response', resolve)
    request.once('error', (error) => {
      body.destroy()
      reject(new AttemptError(error, connected))
    })
    // An add lasts as long as its upload: the timeout is for silence, not for the whole.
    request.setTimeout(init.timeout, () =>
      request.destroy(new Error(`no answer for ${init.timeout / 1000}s`)),
    )
    body.once('error', (error) => request.destroy(error))
    body.pipe(request)
  })
}

/** `POST /ipfs/gc` (1.x's GlobalRepoGC). */
export async function repoGc(
  init: RestClientInit,
  local: boolean,
): Promise<{ peer_map: Record<string, RepoGcJson> }> {
  // A GC may run twice without harm: any failure before an answer moves on to the next host.
  const failures: string[] = []
  for (const baseUrl of baseUrls(init)) {
    let response: Response
    try {
      response = await (init.fetch ?? fetch)(`${baseUrl}/ipfs/gc${local ? '?local=true' : ''}`, {
        method: 'POST',
        headers: authorization(init),
        signal: AbortSignal.timeout(init.timeout),
      })
    } catch (error) {
      failures.push(`${baseUrl} (${causeOf(error)})`)
      continue
    }
    if (!response.ok) throw failureOf(response.status, await response.text())
    return (await response.json()) as { peer_map: Record<string, RepoGcJson> }
  }
  throw unreachable(failures)
}
