import type { ServerResponse } from 'node:http'
import {
  type AddEntry,
  type AddedOutput,
  type AddOptions,
  addCar,
  addUnixfs,
} from '@pinraft/ipfs-connector'
import type { FastifyPluginAsync } from 'fastify'
import { CID } from 'multiformats/cid'
import { InvalidParameterError } from '../../errors.ts'
import type { ApiContext } from '../api-context.ts'
import { errorResponse } from '../error-handler.ts'
import { multipartEntries } from '../multipart-entries.ts'
import { type PinQuery, pinInputFromQuery, pinQueryProperties } from '../pin-request.ts'

/** The identity CID of no bytes: stands for the root while the pin options are checked. */
const emptyIdentityCid = CID.parse('bafkqaaa')

/** Errors of the adder and the IPFS node, with the status a client gets for each. */
const addErrors: Readonly<Record<string, number>> = {
  InvalidAddInputError: 400,
  InvalidBlockError: 400,
  IpfsUnreachableError: 502,
  IpfsRequestError: 502,
  ConnectorNotStartedError: 503,
}

function addErrorBody(error: Error): { code: number; message: string } {
  const code = addErrors[error.name]
  if (code !== undefined) return { code, message: error.message }
  return errorResponse(error as never)
}

const addQuerySchema = {
  type: 'object',
  properties: {
    ...pinQueryProperties,
    layout: { type: 'string', enum: ['', 'balanced', 'trickle'] },
    chunker: { type: 'string', maxLength: 256 },
    hash: { type: 'string', maxLength: 64 },
    format: { type: 'string', enum: ['', 'unixfs', 'car'] },
    'cid-version': { type: 'integer', minimum: 0, maximum: 1 },
  },
  // Booleans are parsed below as Go's strconv.ParseBool does; `meta-*` carry metadata.
  additionalProperties: { type: 'string' },
} as const

type AddQuery = PinQuery & {
  layout?: '' | 'balanced' | 'trickle'
  chunker?: string
  hash?: string
  format?: '' | 'unixfs' | 'car'
  'cid-version'?: number
}

/** Go's strconv.ParseBool, as 1.x's parseBoolParam reads `local`, `raw-leaves`… */
function booleanParameter(query: AddQuery, name: string, fallback: boolean): boolean {
  const value = query[name]
  if (value === undefined || value === '') return fallback
  const text = String(value)
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false
  throw new InvalidParameterError(`parameter ${name} invalid: use true or false`)
}

/** 1.x's AddedOutput in JSON: `name`, `cid` (null on progress lines), then omitempty fields. */
function outputJson(output: AddedOutput): Record<string, unknown> {
  return {
    name: output.name,
    cid: output.cid === undefined ? null : output.cid.toString(),
    ...(output.bytes === undefined || output.bytes === 0 ? {} : { bytes: output.bytes }),
    ...(output.size === undefined || output.size === 0 ? {} : { size: output.size }),
  }
}

/** The whole upload a CAR import reads: the first file part. */
async function* firstFile(
  entries: AsyncIterable<AddEntry>,
): AsyncGenerator<{ name: string; content: AsyncIterable<Uint8Array> }> {
  for await (const entry of entries) {
    if ('content' in entry) {
      yield { name: entry.path, content: entry.content }
      return
    }
  }
}

/**
 * `POST /add` (IPFS Cluster 1.x's adder): builds the DAG of the uploaded files (or imports a
 * CAR) into this peer's IPFS node, then pins the root through consensus. Streams one
 * AddedOutput per line (errors after the first line go to the `X-Stream-Error` trailer), or one
 * JSON array with `stream-channels=false`. An error before anything was written is answered
 * with its status, so a malformed body is a 400 and nothing is pinned.
 */
export const addRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, options) => {
  const { context } = options
  // The body is read by the route itself, streamed: no parser buffers it.
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null))

  app.post<{ Querystring: AddQuery }>(
    '/add',
    { schema: { querystring: addQuerySchema } },
    async (request, reply) => {
      const ipfs = context.ipfs
      if (ipfs === undefined) {
        throw new InvalidParameterError('this peer has no IPFS connector: /add is not available')
      }
      const query = request.query
      const cidVersion = query['cid-version'] === 1 ? 1 : 0
      const addOptions: AddOptions = {
        chunker: query.chunker,
        hash: query.hash,
        layout: query.layout,
        cidVersion,
        // 1.x: raw leaves follow the CID version unless raw-leaves is given.
        rawLeaves: booleanParameter(query, 'raw-leaves', cidVersion > 0),
        wrapWithDirectory: booleanParameter(query, 'wrap-with-directory', false),
        progress: booleanParameter(query, 'progress', false),
      }
      const streamChannels = booleanParameter(query, 'stream-channels', true)
      const noPin = booleanParameter(query, 'no-pin', false)
      // Accepted for 1.x compatibility: blocks always go to this peer's node, which serves
      // them to the allocated peers; `local` changes nothing else here.
      booleanParameter(query, 'local', false)
      if (booleanParameter(query, 'shard', false)) {
        throw new InvalidParameterError('sharded adds (shard=true) are not supported by pinraft')
      }
      if (booleanParameter(query, 'nocopy', false)) {
        throw new InvalidParameterError('nocopy (the filestore) is not supported by pinraft')
      }
      const pinInput = (root: CID) =>
        pinInputFromQuery(root.toString(), query, {
          replicationFactorMin: context.replicationFactorMin,
          replicationFactorMax: context.replicationFactorMax,
          now: context.now(),
        })
      // The pin options are checked before anything is read (expire-in, mode…).
      pinInput(emptyIdentityCid)

      context.logger.info({ format: query.format || 'unixfs', name: query.name }, 'add started')
      const controller = new AbortController()
      const onClose = (): void => {
        if (!reply.raw.writableFinished) controller.abort(new Error('the client went away'))
      }
      request.raw.once('close', () => {
        if (!request.raw.complete) controller.abort(new Error('the client cancelled the upload'))
      })
      reply.raw.once('close', onClose)
      const signal = controller.signal
      const entries = multipartEntries(request.raw, signal)
      const outputs =
        query.format === 'car'
          ? (async function* () {
              let root: CID | undefined
              for await (const file of firstFile(entries)) {
                root = yield* addCar(file.name, file.content, ipfs.connector, {
                  signal,
                  wrapWithDirectory: addOptions.wrapWithDirectory,
                })
              }
              if (root === undefined)
                throw new InvalidParameterError('format=car needs one file part holding the CAR')
              return root
            })()
          : addUnixfs(entries, ipfs.connector, { ...addOptions, signal })

      reply.hijack()
      const raw: ServerResponse = reply.raw
      const buffered: Record<string, unknown>[] = []
      let started = false
      const start = (): void => {
        if (started) return
        started = true
        raw.writeHead(200, {
          'content-type': 'application/json',
          'cache-control': 'no-cache',
          connection: 'close',
          'x-chunked-output': '1',
          trailer: 'X-Stream-Error',
        })
      }
      try {
        let root: CID
        while (true) {
          const next = await outputs.next()
          if (next.done === true) {
            root = next.value
            break
          }
          const line = outputJson(next.value)
          if (!streamChannels) buffered.push(line)
          else {
            start()
            raw.write(`${JSON.stringify(line)}\n`)
          }
        }
        if (!noPin) {
          // Through the cluster when there is one, so that the pin is allocated.
          const pin = await (context.cluster?.pin(pinInput(root)) ??
            context.consensus.logPin(pinInput(root)))
          context.logger.info({ cid: pin.cid.toString(), name: pin.name }, 'added and pinned')
        }
        if (!streamChannels) {
          raw.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' })
          raw.end(`${JSON.stringify(buffered)}\n`)
          return
        }
        start()
        raw.addTrailers({ 'X-Stream-Error': '' })
        raw.end()
      } catch (error) {
        const failure = error as Error
        if (signal.aborted) {
          // The client went away: nothing is pinned, and nobody is left to answer.
          context.logger.info({ reason: String(signal.reason) }, 'add cancelled')
          raw.destroy()
          return
        }
        const body = addErrorBody(failure)
        if (body.code >= 500) context.logger.error({ err: error }, 'add failed')
        else context.logger.info({ error: failure.message }, 'add refused')
        // Before the first line, the status says it; after, the trailer (as 1.x and Kubo do).
        if (!started) {
          raw.writeHead(body.code, { 'content-type': 'application/json', connection: 'close' })
          raw.end(`${JSON.stringify(body)}\n`)
        } else {
          raw.addTrailers({ 'X-Stream-Error': body.message.replace(/[\r\n]+/g, ' ') })
          raw.end()
        }
        request.raw.resume()
      }
    },
  )
}
