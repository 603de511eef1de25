import { Readable } from 'node:stream'
import type { Cluster, GlobalPinInfo } from '@pinraft/cluster'
import { globalPinInfoToJson, toGlobal } from '@pinraft/cluster'
import type { PinInfo, StatusFilter } from '@pinraft/pintracker'
import { parseStatusFilter } from '@pinraft/pintracker'
import { type CID, parseCid, pinToClusterJson } from '@pinraft/state-pinset'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { InvalidParameterError, NotFoundError } from '../../errors.ts'
import { type PinQuery, parsePinRequest, pinQuerySchema } from '../pin-request.ts'

/** What the status routes need from the Cluster component. */
export type StatusCluster = Pick<
  Cluster,
  | 'status'
  | 'statusLocal'
  | 'statusAll'
  | 'statusAllLocal'
  | 'recover'
  | 'recoverLocal'
  | 'recoverAll'
  | 'recoverAllLocal'
  | 'pinPath'
  | 'unpinPath'
>

export interface PinStatusRoutesOptions {
  readonly cluster: StatusCluster
  /** Applied to pins by path submitted with a replication factor of 0 (as `POST /pins/{cid}`). */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  /** Clock for `expire-in` and pin timestamps (milliseconds since the epoch). */
  now(): number
  /** How many CIDs of `GET /pins?cids=` are asked at once. */
  readonly cidsConcurrency?: number
}

const cidParams = {
  type: 'object',
  required: ['cid'],
  properties: { cid: { type: 'string', minLength: 1, maxLength: 2048 } },
} as const

const localQuery = {
  type: 'object',
  properties: { local: { type: 'string' } },
} as const

/** The longest IPFS path accepted (a CID and a few hundred path segments). */
const maxPathLength = 4096

function parseCidParameter(text: string): CID {
  try {
    return parseCid(text)
  } catch (error) {
    throw new InvalidParameterError(`error decoding Cid: ${(error as Error).message}`)
  }
}

function parseFilter(text: string | undefined): StatusFilter {
  try {
    return parseStatusFilter(text)
  } catch (error) {
    throw new InvalidParameterError((error as Error).message)
  }
}

/** 1.x's ParsePinPathOrFail: `/<ipfs|ipns|ipld>/<path>` without a trailing slash, its root checked. */
function parsePinPath(keyType: string, rest: string): string {
  const trimmed = rest.replace(/\/+$/, '')
  const path = `/${keyType}/${trimmed}`
  const root = trimmed.split('/')[0] ?? ''
  if (root === '') {
    throw new InvalidParameterError(
      `error parsing path: ${JSON.stringify(path)} names nothing; expected /${keyType}/<${keyType === 'ipns' ? 'name' : 'cid'}>[/sub/path]`,
    )
  }
  if (path.length > maxPathLength) {
    throw new InvalidParameterError(
      `error parsing path: it is longer than ${maxPathLength} characters`,
    )
  }
  if (keyType !== 'ipns') {
    try {
      parseCid(root)
    } catch (error) {
      throw new InvalidParameterError(`error parsing path: ${(error as Error).message}`)
    }
  }
  return path
}

/** Errors of the cluster component, in the app's terms (so its one error handler maps them). */
function clusterError(error: unknown): unknown {
  if (error instanceof Error) {
    if (error.name === 'PinNotFoundError') return new NotFoundError(error.message)
    if (error.name === 'PathResolveError') return new InvalidParameterError(error.message)
  }
  return error
}

/** Aborted when the client goes away, so no peer keeps working for nobody. */
function requestSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  // The response closes when it was sent or the client went away; either way the work is over.
  reply.raw.once('close', () => controller.abort())
  return controller.signal
}

function sendGlobal(reply: FastifyReply, global: GlobalPinInfo): FastifyReply {
  return reply.type('application/json').send(`${globalPinInfoToJson(global)}\n`)
}

async function* local(infos: AsyncIterable<PinInfo>): AsyncGenerator<GlobalPinInfo> {
  for await (const info of infos) yield toGlobal(info)
}

/**
 * 1.x's StreamResponse: one JSON object per line, each written as soon as it is produced (the
 * stream pulls one at a time, so memory does not grow with the list); 204 when there is none; an
 * error before the first line is a 500 with the error; after it, the `X-Stream-Error` trailer
 * carries it (and is empty, but present, when all went well).
 */
async function sendStream(
  reply: FastifyReply,
  source: AsyncIterable<GlobalPinInfo>,
): Promise<FastifyReply> {
  const iterator = source[Symbol.asyncIterator]()
  let first: IteratorResult<GlobalPinInfo>
  try {
    first = await iterator.next()
  } catch (error) {
    return reply
      .code(500)
      .type('application/json')
      .send({ code: 500, message: (error as Error).message })
  }
  if (first.done === true) return reply.code(204).send()
  let streamError = ''
  async function* lines(): AsyncGenerator<string> {
    try {
      yield `${globalPinInfoToJson(first.value)}\n`
      for (;;) {
        const next = await iterator.next()
        if (next.done === true) return
        yield `${globalPinInfoToJson(next.value)}\n`
      }
    } catch (error) {
      streamError = (error as Error).message
    } finally {
      await iterator.return?.()
    }
  }
  reply.trailer('X-Stream-Error', async () => streamError)
  return reply.type('application/json').send(Readable.from(lines(), { objectMode: false }))
}

/** Runs `task` over `items`, `concurrency` at a time, yielding results in the items' order. */
async function* ordered<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const pending: Promise<R>[] = []
  let next = 0
  while (next < items.length && pending.length < concurrency) pending.push(task(items[next++]!))
  while (pending.length > 0) {
    const result = await pending.shift()!
    if (next < items.length) pending.push(task(items[next++]!))
    yield result
  }
}

/**
 * The pin status, recover and pin-by-path routes of IPFS Cluster's REST API 1.x, over the
 * Cluster component. Register it beside the app's routes:
 * `app.register(pinStatusRoutes, { cluster, replicationFactorMin, replicationFactorMax, now })`.
 */
export const pinStatusRoutes: FastifyPluginAsync<PinStatusRoutesOptions> = async (app, options) => {
  const { cluster } = options
  const concurrency = options.cidsConcurrency ?? 8

  app.get<{ Querystring: { local?: string; filter?: string; cids?: string } }>(
    '/pins',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            local: { type: 'string' },
            filter: { type: 'string', maxLength: 1024 },
            cids: { type: 'string' },
          },
        },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply)
      const isLocal = request.query.local === 'true'
      const cidsText = request.query.cids ?? ''
      if (cidsText !== '') {
        // As 1.x: every CID is checked before any is asked; the filter does not apply.
        const cids = cidsText.split(',').map(parseCidParameter)
        return sendStream(
          reply,
          ordered(cids, concurrency, async (cid) =>
            isLocal
              ? toGlobal(await cluster.statusLocal(cid, { signal }))
              : cluster.status(cid, { signal }),
          ),
        )
      }
      const filter = parseFilter(request.query.filter)
      return sendStream(
        reply,
        isLocal
          ? local(cluster.statusAllLocal({ filter, signal }))
          : cluster.statusAll({ filter, signal }),
      )
    },
  )

  app.post<{ Querystring: { local?: string } }>(
    '/pins/recover',
    { schema: { querystring: localQuery } },
    async (request, reply) => {
      const signal = requestSignal(reply)
      return sendStream(
        reply,
        request.query.local === 'true'
          ? local(cluster.recoverAllLocal({ signal }))
          : cluster.recoverAll({ signal }),
      )
    },
  )

  app.get<{ Params: { cid: string }; Querystring: { local?: string } }>(
    '/pins/:cid',
    { schema: { params: cidParams, querystring: localQuery } },
    async (request, reply) => {
      const cid = parseCidParameter(request.params.cid)
      const signal = requestSignal(reply)
      if (request.query.local === 'true') {
        return sendGlobal(reply, toGlobal(await cluster.statusLocal(cid, { signal })))
      }
      return sendGlobal(reply, await cluster.status(cid, { signal }))
    },
  )

  app.post<{ Params: { cid: string }; Querystring: { local?: string } }>(
    '/pins/:cid/recover',
    { schema: { params: cidParams, querystring: localQuery } },
    async (request, reply) => {
      const cid = parseCidParameter(request.params.cid)
      const signal = requestSignal(reply)
      if (request.query.local === 'true') {
        return sendGlobal(reply, toGlobal(await cluster.recoverLocal(cid, { signal })))
      }
      return sendGlobal(reply, await cluster.recover(cid, { signal }))
    },
  )

  for (const keyType of ['ipfs', 'ipns', 'ipld'] as const) {
    app.post<{ Params: { '*': string }; Querystring: PinQuery }>(
      `/pins/${keyType}/*`,
      { schema: { querystring: pinQuerySchema } },
      async (request, reply) => {
        const path = parsePinPath(keyType, request.params['*'])
        // The options are checked before the path is resolved, as 1.x does.
        const { input: parsed, pinUpdate } = parsePinRequest('', request.query, {
          replicationFactorMin: options.replicationFactorMin,
          replicationFactorMax: options.replicationFactorMax,
          now: options.now(),
        })
        const { cid: _unresolved, ...input } = parsed
        const signal = requestSignal(reply)
        try {
          const pin = await cluster.pinPath(
            path,
            input,
            pinUpdate === undefined ? { signal } : { signal, pinUpdate },
          )
          request.log.info({ cid: pin.cid.toString(), path }, 'pinned by path')
          return reply.type('application/json').send(`${pinToClusterJson(pin)}\n`)
        } catch (error) {
          throw clusterError(error)
        }
      },
    )

    app.delete<{ Params: { '*': string } }>(`/pins/${keyType}/*`, async (request, reply) => {
      const path = parsePinPath(keyType, request.params['*'])
      try {
        const pin = await cluster.unpinPath(path, { signal: requestSignal(reply) })
        request.log.info({ cid: pin.cid.toString(), path }, 'unpinned by path')
        return reply.type('application/json').send(`${pinToClusterJson(pin)}\n`)
      } catch (error) {
        throw clusterError(error)
      }
    })
  }
}
