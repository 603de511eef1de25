import { alertToJson } from '@pinraft/allocation'
import type { ClusterHealth } from '@pinraft/cluster'
import type { FastifyPluginAsync } from 'fastify'
import { bandwidthToJson, connectGraphToJson } from '../health-json.ts'
import { replySignal } from '../reply-signal.ts'

export interface HealthRoutesOptions {
  readonly health: Pick<ClusterHealth, 'alerts' | 'connectGraph' | 'bandwidthByProtocol'>
}

/**
 * 1.x's health routes beside `GET /health`: `GET /health/alerts` (expired metrics seen lately,
 * newest first, as 1.x lists them), `GET /health/graph` (the ConnectGraph) and
 * `GET /health/bandwidth` (this peer's libp2p traffic per protocol). Each is one JSON value,
 * 200; behind basic auth like every route but `GET /health`.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, options) => {
  const { health } = options

  app.get('/health/alerts', { schema: {} }, async (_request, reply) => {
    // The cluster lists them newest first, as 1.x's Cluster.Alerts.
    const alerts = await health.alerts({ signal: replySignal(reply) })
    return reply.type('application/json').send(`[${alerts.map(alertToJson).join(',')}]\n`)
  })

  app.get('/health/graph', { schema: {} }, async (_request, reply) => {
    const graph = await health.connectGraph({ signal: replySignal(reply) })
    return reply.type('application/json').send(`${connectGraphToJson(graph)}\n`)
  })

  app.get('/health/bandwidth', { schema: {} }, async (_request, reply) => {
    const bandwidth = await health.bandwidthByProtocol({ signal: replySignal(reply) })
    return reply.type('application/json').send(`${bandwidthToJson(bandwidth)}\n`)
  })
}
