import type { FastifyPluginAsync } from 'fastify'
import { InvalidParameterError } from '../../errors.ts'
import type { ApiContext } from '../api-context.ts'
import { localRaftStatus, raftStatusJson, withLeaderLag } from '../raft-status-json.ts'

/**
 * `GET /raft/status[?all=true]` (pinraft's own; IPFS Cluster has no such route): this peer's
 * Raft role, term, indexes, readiness and last error; with `all=true` every member's, asked over
 * `/pinraft/service/1.0.0`, one JSON object per line as `/peers` streams them, each `lag`
 * filled from the leader's view.
 */
export const raftStatusRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (
  app,
  options,
) => {
  const { context } = options
  const { consensus } = context
  const local = () =>
    localRaftStatus(consensus, context.peername, context.lastError?.last() ?? null)

  app.get<{ Querystring: { all?: string } }>(
    '/raft/status',
    { schema: { querystring: { type: 'object', properties: { all: { type: 'string' } } } } },
    async (request, reply) => {
      const all = request.query.all
      if (all !== undefined && all !== 'true' && all !== 'false' && all !== '')
        throw new InvalidParameterError(
          `all must be true or false, got ${JSON.stringify(all)}: true asks every member`,
        )
      if (all !== 'true') return reply.type('application/json').send(local())

      const controller = new AbortController()
      request.raw.once('close', () => controller.abort())
      const members = await consensus.peers({ signal: controller.signal })
      const statuses = await Promise.all(
        members.map(async (peer) => {
          if (peer === consensus.peerId) return local()
          if (context.remoteRaftStatus === undefined)
            return raftStatusJson({ peer, error: 'this peer cannot ask other peers' })
          try {
            return await context.remoteRaftStatus(peer, {
              signal: AbortSignal.any([
                controller.signal,
                AbortSignal.timeout(context.peerTimeout),
              ]),
            })
          } catch (error) {
            return raftStatusJson({ peer, error: (error as Error).message })
          }
        }),
      )
      const lines = withLeaderLag(statuses).map((entry) => `${JSON.stringify(entry)}\n`)
      if (lines.length === 0) return reply.code(204).send()
      reply.trailer('X-Stream-Error', async () => '')
      return reply.type('application/json').send(lines.join(''))
    },
  )
}
