import type { FastifyInstance, FastifyReply } from 'fastify'
import { defaultRestApiSection } from '../config/sections.ts'
import type { ApiOptions } from './api-context.ts'
import { basicAuthMatches, isBearer } from './basic-auth.ts'
import { type CorsOptions, registerCors } from './cors.ts'

const realm = 'Restricted IPFS Cluster API'

function unauthorized(reply: FastifyReply, challenges: string[], message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', challenges.length === 1 ? challenges[0] : challenges)
    .type('application/json')
    .send({ code: 401, message })
}

/** IPFS Cluster 1.x's CORS defaults, for an app created without `api.restapi`. */
export function defaultCorsOptions(): CorsOptions {
  const defaults = defaultRestApiSection()
  return {
    allowedOrigins: defaults.cors_allowed_origins,
    allowedMethods: defaults.cors_allowed_methods,
    allowedHeaders: defaults.cors_allowed_headers,
    exposedHeaders: defaults.cors_exposed_headers,
    allowCredentials: defaults.cors_allow_credentials,
    maxAge: 0,
  }
}

/**
 * What IPFS Cluster 1.x puts in front of its router, in its order, for every request (unknown
 * routes too): basic auth (not for `OPTIONS` nor `GET /health`), then CORS, then a 307 redirect
 * of a path ending in `/` to the same path without it.
 */
export function registerAccessControl(app: FastifyInstance, options: ApiOptions = {}): void {
  const credentials = options.basicAuthCredentials ?? null
  if (credentials !== null) {
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0]
      if (
        request.method === 'OPTIONS' ||
        (request.method === 'GET' && (path === '/health' || path === '/health/ready'))
      )
        return
      const header = request.headers.authorization
      if (header !== undefined && /^basic /i.test(header)) {
        if (!basicAuthMatches(header, credentials))
          return unauthorized(reply, [`Basic realm="${realm}"`], 'unauthorized: access denied')
        return
      }
      // pinraft issues no tokens, so a bearer token is never valid.
      if (isBearer(header))
        return unauthorized(
          reply,
          [`Bearer realm="${realm}", error="invalid_token"`],
          'unauthorized: invalid token',
        )
      return unauthorized(
        reply,
        [`Bearer realm="${realm}"`, `Basic realm="${realm}"`],
        'unauthorized: no auth provided',
      )
    })
  }
  registerCors(app, options.cors ?? defaultCorsOptions())
  app.addHook('onRequest', async (request, reply) => {
    const [path, query] = request.url.split(/\?(.*)/s, 2) as [string, string | undefined]
    if (path.length > 1 && path.endsWith('/')) {
      const target = `${path.slice(0, -1)}${query === undefined ? '' : `?${query}`}`
      return reply
        .code(307)
        .header('location', target)
        .type('text/html; charset=utf-8')
        .send(`<a href="${target.replaceAll('"', '&quot;')}">Temporary Redirect</a>.\n\n`)
    }
  })
}
