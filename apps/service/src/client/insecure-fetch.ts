import { request } from 'node:https'
import { Readable } from 'node:stream'

/**
 * A `fetch` over HTTPS that does not verify the server's certificate (ctl's
 * `--no-check-certificate`, for self-signed API certificates). Node's own fetch has no such
 * option, so this goes through `node:https` and returns a standard `Response`.
 */
export const insecureFetch: typeof fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value
    })
    const outgoing = request(
      url,
      {
        method: init?.method ?? 'GET',
        headers,
        rejectUnauthorized: false,
        signal: init?.signal ?? undefined,
      },
      (incoming) => {
        const responseHeaders = new Headers()
        for (let index = 0; index < incoming.rawHeaders.length; index += 2)
          responseHeaders.append(incoming.rawHeaders[index]!, incoming.rawHeaders[index + 1]!)
        const status = incoming.statusCode ?? 500
        const empty = status === 204 || status === 304 || init?.method === 'HEAD'
        if (empty) incoming.resume()
        resolve(
          new Response(empty ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
            status,
            statusText: incoming.statusMessage,
            headers: responseHeaders,
          }),
        )
      },
    )
    // Shaped as fetch's network errors, so callers handle both alike.
    outgoing.once('error', (error) => reject(new TypeError('fetch failed', { cause: error })))
    outgoing.end()
  })
