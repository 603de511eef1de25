import type { Duplex } from 'node:stream'
import { Readable } from 'node:stream'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Pin } from '@pinraft/state-pinset'
import { parseCid, pinToClusterJson, pinTypes } from '@pinraft/state-pinset'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyServerOptions,
} from 'fastify'
import fastify from 'fastify'
import { ConsistentReadError, InvalidParameterError, NotFoundError } from '../errors.ts'
import { registerAccessControl } from './access-control.ts'
import type { ApiContext, ApiOptions } from './api-context.ts'
import { handleError } from './error-handler.ts'
import { type IdJson, idJson } from './id-json.ts'
import { createPeerMetrics, type PeerMetrics } from './metrics.ts'
import { type PinQuery, parsePinRequest, pinQuerySchema } from './pin-request.ts'
import { notReadyReason } from './readiness.ts'
import { replySignal } from './reply-signal.ts'
import { addRoutes } from './routes/add.ts'
import { healthRoutes } from './routes/health.ts'
import { ipfsGcRoutes } from './routes/ipfs-gc.ts'
import { monitorRoutes } from './routes/monitor.ts'
import { pinStatusRoutes } from './routes/pin-status.ts'
import { raftStatusRoutes } from './routes/raft-status.ts'
import { uiRoutes } from './routes/ui.ts'

const errorSchema = {
  type: 'object',
  properties: { code: { type: 'integer' }, message: { type: 'string' } },
} as const

const cidParams = {
  type: 'object',
  required: ['cid'],
  properties: { cid: { type: 'string', minLength: 1, maxLength: 2048 } },
} as const

/** The pin JSON exactly as IPFS Cluster writes it (field order, Go's zero values). */
function sendPin(reply: FastifyReply, pin: Pin): FastifyReply {
  return reply.type('application/json').send(`${pinToClusterJson(pin)}\n`)
}

/**
 * IPFS Cluster 1.x streams lists as one JSON value per line, answers 204 when there is none, and
 * sets the `X-Stream-Error` trailer (empty when all went well) that its client reads.
 */
function sendStream(reply: FastifyReply, lines: string[]): FastifyReply {
  if (lines.length === 0) return reply.code(204).send()
  reply.trailer('X-Stream-Error', async () => '')
  return reply.type('application/json').send(lines.join(''))
}

/** Lines after the first are written in chunks of about this many characters. */
const streamChunkCharacters = 32 * 1024

/**
 * Streams lines as IPFS Cluster 1.x does (204 when there is none, `X-Stream-Error` trailer),
 * pulling them as the client reads (the stream's backpressure), so a large pinset is never held
 * in memory as one body. The first line goes at once; the others in chunks of about 32 KiB, as
 * a socket write per line made a million pins a million system calls. An error in the middle
 * ends the body, after the lines before it, and is reported in the trailer.
 */
async function streamLines(
  reply: FastifyReply,
  lines: AsyncIterator<string>,
): Promise<FastifyReply> {
  const first = await lines.next()
  if (first.done === true) return reply.code(204).send()
  let streamError = ''
  async function* body(): AsyncGenerator<string> {
    yield first.value
    let chunk = ''
    try {
      for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
        chunk += next.value
        if (chunk.length >= streamChunkCharacters) {
          yield chunk
          chunk = ''
        }
      }
    } catch (error) {
      streamError = (error as Error).message
    } finally {
      await lines.return?.()
    }
    if (chunk !== '') yield chunk
  }
  reply.trailer('X-Stream-Error', async () => streamError)
  return reply.type('application/json').send(Readable.from(body(), { objectMode: false }))
}

/** `?consistent=true`: a linearizable read (ReadIndex) before reading the local state. */
async function readPoint(
  context: ApiContext,
  consistent: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (consistent === undefined || consistent === 'false' || consistent === '') return
  if (consistent !== 'true')
    throw new InvalidParameterError(
      `consistent must be true or false, got ${JSON.stringify(consistent)}`,
    )
  try {
    await context.consensus.readIndex({ signal })
  } catch (error) {
    const name = (error as Error).name
    if (name === 'NoLeaderError' || name === 'ConsensusShutdownError') throw error
    throw new ConsistentReadError(
      `could not confirm a consistent read with the leader: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/** Aborted when the client goes away. */
function requestSignal(request: {
  raw: { once(event: 'close', listener: () => void): unknown }
}): AbortSignal {
  const controller = new AbortController()
  request.raw.once('close', () => controller.abort())
  return controller.signal
}

function parseCidParameter(text: string): string {
  return parseCid(text).toString()
}

function parsePeerParameter(text: string): string {
  try {
    return peerIdFromString(text).toString()
  } catch (error) {
    throw new InvalidParameterError(
      `error decoding Peer ID: ${JSON.stringify(text)} is not a peer ID (${(error as Error).message}); expected a base58 peer ID such as 12D3KooW…`,
    )
  }
}

async function localId(context: ApiContext): Promise<IdJson> {
  const { consensus } = context
  const status = consensus.status()
  const members = [...new Set([...status.voters, ...status.nonVoters])].sort()
  return idJson({
    id: consensus.peerId,
    addresses: context.addresses(),
    cluster_peers: members,
    cluster_peers_addresses: (
      await Promise.all(
        members
          .filter((peer) => peer !== consensus.peerId)
          .map((peer) => context.peerAddresses(peer)),
      )
    ).flat(),
    version: context.version,
    ...(context.ipfs === undefined ? {} : { ipfs: await context.ipfs.id() }),
    peername: context.peername,
  })
}

/**
 * The REST API routes (IPFS Cluster REST API 1.x compatible), as a fastify plugin. Every route
 * has a schema; errors go through the one handler of `createApp`.
 */
export const apiRoutes: FastifyPluginAsync<{
  context: ApiContext
  api?: ApiOptions
  metrics: PeerMetrics
  dashboardFolder?: string
}> = async (app, options) => {
  const { context, metrics } = options
  const { consensus } = context
  const headers = options.api?.headers ?? {}

  // No route reads a body: any body, of any type (`curl -d ''`), is accepted and ignored, as
  // IPFS Cluster's router does.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.on('error', done)
    payload.on('end', () => done(null))
    payload.resume()
  })
  if (Object.keys(headers).length > 0) {
    app.addHook('onSend', async (_request, reply, payload) => {
      for (const [name, values] of Object.entries(headers)) {
        reply.header(name, values.length === 1 ? values[0] : [...values])
      }
      return payload
    })
  }

  await app.register(addRoutes, { context })
  await app.register(ipfsGcRoutes, { context })
  await app.register(raftStatusRoutes, { context })
  await app.register(uiRoutes, { folder: options.dashboardFolder })
  if (context.cluster !== undefined) {
    await app.register(pinStatusRoutes, {
      cluster: context.cluster,
      replicationFactorMin: context.replicationFactorMin,
      replicationFactorMax: context.replicationFactorMax,
      now: context.now,
    })
  }
  if (context.health !== undefined) {
    await app.register(monitorRoutes, { health: context.health })
    await app.register(healthRoutes, { health: context.health })
  }

  app.get('/id', { schema: { response: { '4xx': errorSchema, '5xx': errorSchema } } }, async () =>
    localId(context),
  )

  app.get(
    '/version',
    {
      schema: {
        response: { 200: { type: 'object', properties: { version: { type: 'string' } } } },
      },
    },
    async () => ({ version: context.version }),
  )

  app.get('/health', { schema: { response: { 204: { type: 'null' } } } }, async (_request, reply) =>
    reply.code(204).send(),
  )

  // Readiness, for load balancers and supervisors: /health stays IPFS Cluster's liveness check.
  app.get('/health/ready', { schema: {} }, async (_request, reply) => {
    const reason = notReadyReason(consensus)
    if (reason === null) return reply.code(204).send()
    return reply
      .code(503)
      .type('application/json')
      .send({ code: 503, message: `not ready: ${reason}` })
  })

  app.get('/metrics', { schema: {} }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.text()),
  )

  app.get('/peers', { schema: {} }, async (request, reply) => {
    const controller = new AbortController()
    request.raw.once('close', () => controller.abort())
    const peers = await consensus.peers({ signal: controller.signal })
    const ids = await Promise.all(
      peers.map(async (peer): Promise<IdJson> => {
        if (peer === consensus.peerId) return localId(context)
        try {
          return await context.remoteId(peer, {
            signal: AbortSignal.any([controller.signal, AbortSignal.timeout(context.peerTimeout)]),
          })
        } catch (error) {
          // As IPFS Cluster: a peer that cannot be asked is listed with its error.
          return idJson({
            id: peer,
            addresses: await context.peerAddresses(peer),
            error: (error as Error).message,
          })
        }
      }),
    )
    return sendStream(
      reply,
      ids.map((id) => `${JSON.stringify(id)}\n`),
    )
  })

  app.delete<{ Params: { peer: string } }>(
    '/peers/:peer',
    {
      schema: {
        params: {
          type: 'object',
          required: ['peer'],
          properties: { peer: { type: 'string', minLength: 1, maxLength: 256 } },
        },
      },
    },
    async (request, reply) => {
      // As IPFS Cluster: removing a peer that is not a member succeeds (there is nothing to do).
      const peer = parsePeerParameter(request.params.peer)
      // 1.x's PeerRemove: the cluster moves the peer's pins to other peers before removing it.
      if (context.cluster !== undefined)
        await context.cluster.peerRemove(peer, { signal: replySignal(reply) })
      else await consensus.rmPeer(peer)
      return reply.code(204).send()
    },
  )

  app.get<{ Querystring: { filter?: string; consistent?: string } }>(
    '/allocations',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { filter: { type: 'string' }, consistent: { type: 'string' } },
        },
      },
    },
    async (request, reply) => {
      const filter = request.query.filter ?? ''
      const wanted = new Set<string>()
      for (const entry of filter.split(',')) {
        const name = entry.trim()
        if (name === '' || name === 'all') {
          for (const type of pinTypes) wanted.add(type)
        } else if ((pinTypes as readonly string[]).includes(name)) {
          wanted.add(name)
        } else {
          throw new InvalidParameterError(
            `invalid filter value ${JSON.stringify(name)}: use all or a comma-separated list of ${pinTypes.join(', ')}`,
          )
        }
      }
      const signal = requestSignal(request)
      await readPoint(context, request.query.consistent, signal)
      async function* lines(): AsyncGenerator<string> {
        for await (const pin of consensus.state().list({ signal })) {
          if (wanted.has(pin.type)) yield `${pinToClusterJson(pin)}\n`
        }
      }
      return streamLines(reply, lines())
    },
  )

  app.get<{ Params: { cid: string }; Querystring: { consistent?: string } }>(
    '/allocations/:cid',
    {
      schema: {
        params: cidParams,
        querystring: { type: 'object', properties: { consistent: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const cid = parseCidParameter(request.params.cid)
      await readPoint(context, request.query.consistent, requestSignal(request))
      const pin = consensus.state().get(cid)
      if (pin === undefined)
        throw new NotFoundError(`not found: ${cid} is not in the cluster's pinset`)
      return sendPin(reply, pin)
    },
  )

  app.post<{ Params: { cid: string }; Querystring: PinQuery }>(
    '/pins/:cid',
    { schema: { params: cidParams, querystring: pinQuerySchema } },
    async (request, reply) => {
      // Parsed once: consensus takes the CID object (no string to encode here and decode again).
      const cid = parseCid(request.params.cid)
      const { input, pinUpdate } = parsePinRequest(cid, request.query, {
        replicationFactorMin: context.replicationFactorMin,
        replicationFactorMax: context.replicationFactorMax,
        now: context.now(),
      })
      const { cluster } = context
      // With the cluster, 1.x's Cluster.Pin: allocations chosen here, `pin-update` honoured.
      // Without it (route tests), the pin goes to consensus as given.
      if (cluster === undefined && pinUpdate !== undefined)
        throw new InvalidParameterError(
          'pin-update needs the cluster component, which this API was started without',
        )
      const signal = replySignal(reply)
      const pin = await metrics.timeCommit('pin', () =>
        cluster === undefined
          ? consensus.logPin(input)
          : cluster.pin(input, pinUpdate === undefined ? { signal } : { signal, pinUpdate }),
      )
      // Debug only: a line per pin is noise under load. (`pinName`: pino's `name` is the logger's.)
      if (context.logger.isLevelEnabled('debug'))
        context.logger.debug({ cid: pin.cid.toString(), pinName: pin.name }, 'pinned')
      return sendPin(reply, pin)
    },
  )

  app.delete<{ Params: { cid: string } }>(
    '/pins/:cid',
    { schema: { params: cidParams } },
    async (request, reply) => {
      const cid = parseCidParameter(request.params.cid)
      const pin = consensus.state().get(cid)
      if (pin === undefined)
        throw new NotFoundError(`not found: ${cid} is not pinned in the cluster`)
      await metrics.timeCommit('unpin', () => consensus.logUnpin(cid))
      context.logger.debug({ cid }, 'unpinned')
      return sendPin(reply, pin)
    },
  )
}

/** `http.createServer` options the API sets from `api.restapi`. */
export interface ServerSocketOptions {
  noDelay?: boolean
  maxHeaderSize?: number
  headersTimeout?: number
  requestTimeout?: number
  connectionsCheckingInterval?: number
}

export interface CreateAppOptions {
  readonly context: ApiContext
  readonly api?: ApiOptions
  /** The peer's metrics; created over `context.consensus` (and stopped on close) when omitted. */
  readonly metrics?: PeerMetrics
  /** The dashboard's built files for `GET /ui`; found beside the service when omitted. */
  readonly dashboardFolder?: string
  /** Fastify server options (`https`, timeouts); the daemon passes them from `api.restapi`. */
  readonly server?: Omit<FastifyServerOptions, 'loggerInstance' | 'logger'> & {
    https?: { cert: Buffer; key: Buffer } & ServerSocketOptions
    http?: ServerSocketOptions
  }
}

/** A route pattern (`/pins/:cid`) as a test for request paths. */
function routeMatcher(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
  return new RegExp(`^${escaped}$`)
}

/** Node's parser errors answered in IPFS Cluster's `{code, message}` shape. */
function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const [status, text, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          'request headers too large: see api.restapi.max_header_bytes',
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [
            408,
            'Request Timeout',
            'request headers not received within api.restapi.read_header_timeout',
          ]
        : [400, 'Bad Request', 'malformed HTTP request']
  const body = JSON.stringify({ code: status, message })
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/**
 * The fastify instance with the API routes, the one error handler, IPFS Cluster's access
 * control (auth, CORS, trailing slash), a JSON 404 and 405. `inject()` it in tests;
 * `startApiServer` listens with it.
 */
export function createApp(options: CreateAppOptions): FastifyInstance {
  const { context } = options
  const serverOptions = {
    ...options.server,
    clientErrorHandler,
    // Fastify's own per-request lines (info) stay off: the access log below writes one, at debug.
    loggerInstance: context.logger.child({}, { level: 'warn' }) as FastifyBaseLogger,
  } as FastifyServerOptions
  // The HTTP and HTTPS instances differ only in their raw server type, which no route touches.
  const app = fastify(serverOptions) as unknown as FastifyInstance
  const errorHandler = handleError(context.logger, context.lastError)
  app.setErrorHandler(errorHandler)
  const routes: { matches: RegExp; method: string }[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ matches: routeMatcher(route.url), method })
  })
  const metrics = options.metrics ?? createPeerMetrics(context.consensus)
  if (options.metrics === undefined) app.addHook('onClose', async () => metrics.stop())
  // A callback hook, not an async one: no promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode < 500) errorHandler.recovered()
    metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode)
    if (context.logger.isLevelEnabled('debug')) {
      context.logger.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          milliseconds: Math.round(reply.elapsedTime),
          remote: request.ip,
        },
        'HTTP request',
      )
    }
    done()
  })
  registerAccessControl(app, options.api)
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    // As IPFS Cluster's router: a known path with another method is 405, without a body.
    if (routes.some((route) => route.method !== request.method && route.matches.test(path))) {
      void reply.code(405).send()
      return
    }
    void reply.code(404).send({
      code: 404,
      message: `no route for ${request.method} ${path}; the routes are GET /id, /version, /peers, /allocations, /allocations/{cid}, /health, /health/ready, /health/alerts, /health/graph, /health/bandwidth, /monitor/metrics, /monitor/metrics/{name}, /metrics, /pins, /pins/{cid}, POST and DELETE /pins/{cid}, POST /pins/{cid}/recover, POST /pins/recover, POST and DELETE /pins/{ipfs,ipns,ipld}/{path}, DELETE /peers/{peer}, POST /add, POST /ipfs/gc, GET /raft/status, GET /ui (the dashboard)`,
    })
  })
  void app.register(apiRoutes, {
    context,
    api: options.api,
    metrics,
    dashboardFolder: options.dashboardFolder,
  })
  return app
}
