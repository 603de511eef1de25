import type { FastifyPluginAsync } from 'fastify'
import { InvalidParameterError } from '../../errors.ts'
import type { ApiContext } from '../api-context.ts'
import type { RepoGcJson } from '../ipfs-context.ts'

/**
 * `POST /ipfs/gc` (1.x's GlobalRepoGC): garbage collection on every cluster peer's IPFS node,
 * or only this one's with `local=true`, answered as `{"peer_map": {<peer>: RepoGC}}`. A peer
 * that cannot be asked is listed with its `error`.
 */
export const ipfsGcRoutes: FastifyPluginAsync<{ context: ApiContext }> = async (app, options) => {
  const { context } = options
  app.post<{ Querystring: { local?: string } }>(
    '/ipfs/gc',
    { schema: { querystring: { type: 'object', properties: { local: { type: 'string' } } } } },
    async (request) => {
      const ipfs = context.ipfs
      if (ipfs === undefined) {
        throw new InvalidParameterError(
          'this peer has no IPFS connector: /ipfs/gc is not available',
        )
      }
      const controller = new AbortController()
      request.raw.once('close', () => {
        if (!request.raw.complete) controller.abort()
      })
      const self = context.consensus.peerId
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(ipfs.repoGcTimeout)])
      if (request.query.local === 'true') {
        return { peer_map: { [self]: await ipfs.localRepoGc({ signal }) } }
      }
      const peers = await context.consensus.peers({ signal })
      const results = await Promise.all(
        peers.map(async (peer): Promise<[string, RepoGcJson]> => {
          if (peer === self) return [peer, await ipfs.localRepoGc({ signal })]
          try {
            return [peer, await ipfs.remoteRepoGc(peer, { signal })]
          } catch (error) {
            return [peer, { peer, peername: '', keys: null, error: (error as Error).message }]
          }
        }),
      )
      return { peer_map: Object.fromEntries(results) }
    },
  )
}
