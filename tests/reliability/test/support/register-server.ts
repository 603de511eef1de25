import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiEndpoint } from '../../src/api-client.ts'

/**
 * A stand-in for a cluster's HTTP API on 127.0.0.1, for testing the workload and the checkers
 * end to end. `replicas` endpoints serve the same routes as the daemon. Writes go to replica 0;
 * in `lagging` mode the others only see them when `sync()` is called (stale local reads;
 * `?consistent=true` reads replica 0, as a ReadIndex would); `ignores-consistent` lags the same
 * way but serves consistent reads from the local replica too (a daemon without ReadIndex reads);
 * `rollback` is correct except that every tenth local read of the newest pin misses it (a peer
 * going back in time); in `forgetful` mode replica 0 acknowledges pins it never stores; `hang`
 * leaves pins unanswered.
 */
export interface RegisterServer {
  readonly endpoints: ApiEndpoint[]
  sync(): void
  pinsets(): Record<string, string[]>
  stop(): Promise<void>
}

export async function startRegisterServer(
  replicas: number,
  mode:
    | 'correct'
    | 'lagging'
    | 'ignores-consistent'
    | 'rollback'
    | 'forgetful'
    | 'hang' = 'correct',
): Promise<RegisterServer> {
  const states = Array.from({ length: replicas }, () => new Set<string>())
  const primary = states[0]!
  const lagging = mode === 'lagging' || mode === 'ignores-consistent'
  let localReads = 0
  let lastPinned: string | undefined
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
      const parsed = new URL(request.url ?? '/', 'http://stand-in')
      const url = parsed.pathname
      const consistent = parsed.searchParams.get('consistent') === 'true'
      // What this read sees: a consistent read the leader's state (unless the stand-in ignores
      // the flag), a local read this replica's.
      const view = consistent && mode !== 'ignores-consistent' ? primary : local
      // A peer answers a consistent read once it has applied up to the read index: it catches up.
      if (view === primary && local !== primary) {
        local.clear()
        for (const cid of primary) local.add(cid)
      }
      const pin = /^\/pins\/([a-z0-9]+)$/.exec(url)
      const allocation = /^\/allocations\/([a-z0-9]+)$/.exec(url)
      const reply = (status: number, body = ''): void => {
        response.writeHead(status, { 'content-type': 'application/json' })
        response.end(body)
      }
      if (pin !== null && request.method === 'POST') {
        if (mode === 'hang') return
        if (mode !== 'forgetful') primary.add(pin[1]!)
        lastPinned = pin[1]
        if (!lagging) sync()
        return reply(200, JSON.stringify({ cid: pin[1] }))
      }
      if (pin !== null && request.method === 'DELETE') {
        if (!local.has(pin[1]!)) return reply(404, '{"code":404,"message":"not found"}')
        primary.delete(pin[1]!)
        if (!lagging) sync()
        return reply(200, JSON.stringify({ cid: pin[1] }))
      }
      if (allocation !== null && request.method === 'GET') {
        // A replica that goes back: every tenth local read of the newest pin misses it.
        if (
          mode === 'rollback' &&
          !consistent &&
          allocation[1] === lastPinned &&
          ++localReads % 10 === 0
        )
          return reply(404)
        return view.has(allocation[1]!)
          ? reply(200, JSON.stringify({ cid: allocation[1] }))
          : reply(404)
      }
      if (url === '/allocations' && request.method === 'GET') {
        if (view.size === 0) return reply(204)
        return reply(200, [...view].map((cid) => `${JSON.stringify({ cid })}\n`).join(''))
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
