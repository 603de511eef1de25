import { timingSafeEqual } from 'node:crypto'
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
import {
  InvalidParameterError,
  NotFoundError,
  UnauthorizedError,
  UnknownPeerError,
} from '../errors.ts'
import type { ApiContext, ApiOptions } from './api-context.ts'
import { handleError } from './error-handler.ts'
import { type IdJson, idJson } from './id-json.ts'
import { prometheusMetrics } from './metrics.ts'
import { type PinQuery, pinInputFromQuery } from './pin-request.ts'
import { addRoutes } from './routes/add.ts'
import { ipfsGcRoutes } from './routes/ipfs-gc.ts'

const errorSchema = {
  type: 'object',
  properties: { code: { type: 'integer' }, message: { type: 'string' } },
} as const

const cidParams = {
  type: 'object',
  required: ['cid'],
  properties: { cid: { type: 'string', minLength: 1, maxLength: 2048 } },
} as const

const replicationFactor = { type: 'integer', minimum: -1, maximum: 2147483647 } as const

const pinQuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 4096 },
    mode: { type: 'string', enum: ['', 'recursive', 'direct'] },
    replication: replicationFactor,
    'replication-min': replicationFactor,
    'replication-max': replicationFactor,
    'expire-at': { type: 'string' },
    'expire-in': { type: 'string' },
    'user-allocations': { type: 'string' },
  },
  // `meta-<key>` parameters carry metadata; other unknown parameters are ignored, as in IPFS Cluster.
  additionalProperties: { type: 'string' },
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

function credentialsMatch(
  header: string | undefined,
  credentials: Readonly<Record<string, string>>,
): boolean {
  if (header === undefined || !header.startsWith('Basic ')) return false
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
  const separator = decoded.indexOf(':')
  if (separator < 0) return false
  const user = decoded.slice(0, separator)
  const password = Buffer.from(decoded.slice(separator + 1))
  const expected = credentials[user]
  if (expected === undefined || !Object.hasOwn(credentials, user)) return false
  const wanted = Buffer.from(expected)
  return wanted.length === password.length && timingSafeEqual(wanted, password)
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
export const apiRoutes: FastifyPluginAsync<{ context: ApiContext; api?: ApiOptions }> = async (
  app,
  options,
) => {
  const { context } = options
  const { consensus } = context
  const credentials = options.api?.basicAuthCredentials ?? null
  const headers = options.api?.headers ?? {}

  if (credentials !== null) {
    app.addHook('onRequest', async (request) => {
      if (!credentialsMatch(request.headers.authorization, credentials))
        throw new UnauthorizedError('Unauthorized')
    })
  }
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

  app.get('/metrics', { schema: {} }, async (_request, reply) =>
    reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(prometheusMetrics(consensus.status())),
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
      const peer = parsePeerParameter(request.params.peer)
      const members = await consensus.peers()
      if (!members.includes(peer)) {
        throw new UnknownPeerError(
          `peer ${peer} is not a member of the cluster; GET /peers (pinraft peers ls) lists the members`,
        )
      }
      await consensus.rmPeer(peer)
      return reply.code(204).send()
    },
  )

  app.get<{ Querystring: { filter?: string } }>(
    '/allocations',
    {
      schema: {
        querystring: { type: 'object', properties: { filter: { type: 'string' } } },
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
      const lines: string[] = []
      for await (const pin of consensus.state().list()) {
        if (wanted.has(pin.type)) lines.push(`${pinToClusterJson(pin)}\n`)
      }
      return sendStream(reply, lines)
    },
  )

  app.get<{ Params: { cid: string } }>(
    '/allocations/:cid',
    { schema: { params: cidParams } },
    async (request, reply) => {
      const cid = parseCidParameter(request.params.cid)
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
      const cid = parseCidParameter(request.params.cid)
      const input = pinInputFromQuery(cid, request.query, {
        replicationFactorMin: context.replicationFactorMin,
        replicationFactorMax: context.replicationFactorMax,
        now: context.now(),
      })
      const pin = await consensus.logPin(input)
      context.logger.info({ cid: pin.cid.toString(), name: pin.name }, 'pinned')
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
      await consensus.logUnpin(cid)
      context.logger.info({ cid }, 'unpinned')
      return sendPin(reply, pin)
    },
  )
}

export interface CreateAppOptions {
  readonly context: ApiContext
  readonly api?: ApiOptions
  /** Fastify server options (`https`, timeouts); the daemon passes them from `api.restapi`. */
  readonly server?: Omit<FastifyServerOptions, 'loggerInstance' | 'logger'> & {
    https?: { cert: Buffer; key: Buffer }
    http?: { maxHeaderSize?: number }
  }
}

/**
 * The fastify instance with the API routes, the one error handler and a JSON 404. `inject()`
 * it in tests; `startApiServer` listens with it.
 */
export function createApp(options: CreateAppOptions): FastifyInstance {
  const { context } = options
  // Fastify logs every request at info; they go to the log only at debug and below.
  const verbose = context.logger.isLevelEnabled('debug')
  const serverOptions = {
    ...options.server,
    loggerInstance: context.logger.child(
      {},
      { level: verbose ? context.logger.level : 'warn' },
    ) as FastifyBaseLogger,
  } as FastifyServerOptions
  // The HTTP and HTTPS instances differ only in their raw server type, which no route touches.
  const app = fastify(serverOptions) as unknown as FastifyInstance
  app.setErrorHandler(handleError(context.logger))
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      code: 404,
      message: `no route for ${request.method} ${request.url.split('?')[0]}; the routes are GET /id, /version, /peers, /allocations, /allocations/{cid}, /health, /metrics, POST and DELETE /pins/{cid}, DELETE /peers/{peer}, POST /add, POST /ipfs/gc`,
    })
  })
  void app.register(apiRoutes, { context, api: options.api })
  return app
}
