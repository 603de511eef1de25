import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiEndpoint } from '../../src/api-client.ts'

/**
 * A stand-in for a cluster's HTTP API on 127.0.0.1, for testing the workload and the checkers
 * end to end. `replicas` endpoints serve the same routes as the daemon. Writes go to replica 0;
 * in `lagging` mode the others only see them when `sync()` is called (stale reads); in
 * `forgetful` mode replica 0 acknowledges pins it never stores; `hang` leaves pins unanswered.
 */
export interface RegisterServer {
  readonly endpoints: ApiEndpoint[]
  sync(): void
  pinsets(): Record<string, string[]>
  stop(): Promise<void>
}

export async function startRegisterServer(
  replicas: number,
  mode: 'correct' | 'lagging' | 'forgetful' | 'hang' = 'correct',
): Promise<RegisterServer> {
  const states = Array.from({ length: replicas }, () => new Set<string>())
  const primary = states[0]!
  const servers: Server[] = []
  const endpoints: ApiEndpoint[] = []
  const sync = (): void => {
    for (const state of states.slice(1)) {
      state.clear()
      for (const cid of primary) state.add(cid)
    }
  }

  for (let index = 0; index < replicas; index++) {
    const local = states[index]!
    const server = createServer((request, response) => {
      const url = request.url ?? '/'
      const pin = /^\/pins\/([a-z0-9]+)$/.exec(url)
      const allocation = /^\/allocations\/([a-z0-9]+)$/.exec(url)
      const reply = (status: number, body = ''): void => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(body)
      }
      if (pin !== null && request.method === 'POST') {
        if (mode === 'hang') return
        if (mode !== 'forgetful') primary.add(pin[1]!)
        if (mode === 'correct' || mode === 'forgetful') sync()
        return reply(200, JSON.stringify({ cid: pin[1] }))
      }
      if (pin !== null && request.method === 'DELETE') {
        if (!local.has(pin[1]!)) return reply(404, '{"code":404,"message":"not found"}')
        primary.delete(pin[1]!)
        if (mode !== 'lagging') sync()
        return reply(200, JSON.stringify({ cid: pin[1] }))
      }
      if (allocation !== null && request.method === 'GET') {
        return local.has(allocation[1]!)
          ? reply(200, JSON.stringify({ cid: allocation[1] }))
          : reply(404)
      }
      if (url === '/allocations' && request.method === 'GET') {
        if (local.size === 0) return reply(204)
        return reply(200, [...local].map((cid) => `${JSON.stringify({ cid })}\n`).join(''))
      }
      reply(404, '{"code":404,"message":"no route"}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    endpoints.push({
      node: `peer-${index}`,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    })
  }

  return {
    endpoints,
    sync,
    pinsets: () =>
      Object.fromEntries(
        endpoints.map((endpoint, index) => [endpoint.node, [...states[index]!].sort()]),
      ),
    stop: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections()
              server.close(() => resolve())
            }),
        ),
      )
    },
  }
}
