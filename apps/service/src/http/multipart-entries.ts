import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { Busboy } from '@fastify/busboy'
import type { AddEntry } from '@pinraft/ipfs-connector'
import { InvalidParameterError } from '../errors.ts'

/** What Kubo and IPFS Cluster's clients send for a directory part. */
const directoryTypes = new Set(['application/x-directory', 'text/directory'])

type Part = { path: string; directory: boolean; stream: Readable }

function decodeName(name: string | undefined): string {
  if (name === undefined) return ''
  try {
    // boxo's MultiFileReader writes `filename` with url.QueryEscape (a space is "+"), and
    // Kubo reads it back with url.QueryUnescape: the same here.
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return name
  }
}

/**
 * A file part's bytes. A body that ends inside a part fails the part's stream, not busboy: that
 * is the client's malformed request (a 400), not a failure of the peer.
 */
async function* partContent(stream: Readable): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Uint8Array
  } catch (error) {
    throw new InvalidParameterError(`malformed multipart request: ${(error as Error).message}`)
  }
}

/**
 * Reads a multipart body as Kubo's `add` and IPFS Cluster 1.x's `/add` send it (one part per
 * file or directory, the path in `filename`, directories typed `application/x-directory`) and
 * yields its entries as they arrive. A file's bytes are streamed: busboy stops reading the
 * request while the adder has not taken the previous chunk, so memory stays bounded.
 */
export async function* multipartEntries(
  request: IncomingMessage,
  signal: AbortSignal,
): AsyncGenerator<AddEntry> {
  const contentType = request.headers['content-type'] ?? ''
  if (!/^multipart\/form-data\s*;.*boundary=/i.test(contentType)) {
    throw new InvalidParameterError(
      `request Content-Type isn't multipart/form-data with a boundary (got ${JSON.stringify(contentType)}): send the files as multipart/form-data, one part per file`,
    )
  }
  const parts: Part[] = []
  let finished = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => {
    wake?.()
    wake = undefined
  }
  let current: Readable | undefined
  const fail = (error: Error): void => {
    failure ??= error
    current?.destroy(error)
    notify()
  }
  let busboy: ReturnType<typeof Busboy>
  try {
    busboy = Busboy({
      headers: request.headers as { 'content-type': string },
      preservePath: true,
      isPartAFile: () => true,
      limits: { fieldNameSize: 4096, headerPairs: 64 },
    })
  } catch (error) {
    throw new InvalidParameterError(`malformed multipart request: ${(error as Error).message}`)
  }
  busboy.on('file', (_field, stream, filename, _encoding, mimeType) => {
    if (String(mimeType).toLowerCase() === 'application/symlink') {
      stream.resume()
      fail(
        new InvalidParameterError(
          `${JSON.stringify(decodeName(filename))} is a symbolic link, which pinraft's adder does not add: add what it points to instead`,
        ),
      )
      return
    }
    parts.push({
      path: decodeName(filename),
      directory: directoryTypes.has(String(mimeType).toLowerCase()),
      stream,
    })
    notify()
  })
  busboy.on('finish', () => {
    finished = true
    notify()
  })
  busboy.on('error', (error: Error) =>
    fail(new InvalidParameterError(`malformed multipart request: ${error.message}`)),
  )
  const onAbort = (): void =>
    fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  signal.addEventListener('abort', onAbort, { once: true })
  request.on('aborted', () =>
    fail(new Error('the client closed the request before the end of the upload')),
  )
  request.pipe(busboy)
  try {
    while (true) {
      if (failure !== undefined) throw failure
      const part = parts.shift()
      if (part !== undefined) {
        current = part.stream
        if (part.directory) {
          part.stream.resume()
          yield { path: part.path, directory: true }
        } else {
          yield { path: part.path, content: partContent(part.stream) }
        }
        continue
      }
      if (finished) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (!finished) {
      request.unpipe(busboy)
      request.resume()
    }
  }
}
