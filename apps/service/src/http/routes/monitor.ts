import { metricToJson } from '@pinraft/allocation'
import type { ClusterHealth } from '@pinraft/cluster'
import type { FastifyPluginAsync } from 'fastify'
import { goString } from '../health-json.ts'
import { replySignal } from '../reply-signal.ts'

export interface MonitorRoutesOptions {
  readonly health: Pick<ClusterHealth, 'metricNames' | 'latestMetrics'>
}

/**
 * 1.x's monitor routes: `GET /monitor/metrics` (the metric names this peer's monitor knows) and
 * `GET /monitor/metrics/{name}` (the latest valid metric of that name from every peer). As 1.x,
 * each answer is one JSON array (not a stream), `[]` when there is nothing, 200 either way.
 */
export const monitorRoutes: FastifyPluginAsync<MonitorRoutesOptions> = async (app, options) => {
  const { health } = options

  app.get('/monitor/metrics', { schema: {} }, async (_request, reply) => {
    const names = await health.metricNames({ signal: replySignal(reply) })
    return reply.type('application/json').send(`[${names.map(goString).join(',')}]\n`)
  })

  app.get<{ Params: { name: string } }>(
    '/monitor/metrics/:name',
    {
      schema: {
        params: {
          type: 'object',
          required: ['name'],
          // Fastify answers 414 to a parameter over 100 characters; metric names are short.
          properties: { name: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request, reply) => {
      const metrics = await health.latestMetrics(request.params.name, {
        signal: replySignal(reply),
      })
      return reply.type('application/json').send(`[${metrics.map(metricToJson).join(',')}]\n`)
    },
  )
}
