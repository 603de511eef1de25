import type { FastifyInstance } from 'fastify'

/** The CORS keys of `api.restapi`, as IPFS Cluster 1.x reads them. */
export interface CorsOptions {
  readonly allowedOrigins: readonly string[]
  readonly allowedMethods: readonly string[]
  readonly allowedHeaders: readonly string[]
  readonly exposedHeaders: readonly string[]
  readonly allowCredentials: boolean
  /** Milliseconds. */
  readonly maxAge: number
}

/** rs/cors allows these request headers when `cors_allowed_headers` is empty. */
const defaultAllowedHeaders = ['Origin', 'Accept', 'Content-Type', 'X-Requested-With']

function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  if (origins.length === 0 || origins.includes('*')) return () => true
  const patterns = origins.map((origin) => {
    const lower = origin.toLowerCase()
    const star = lower.indexOf('*')
    if (star < 0) return (candidate: string) => candidate === lower
    const prefix = lower.slice(0, star)
    const suffix = lower.slice(star + 1)
    return (candidate: string) =>
      candidate.length >= prefix.length + suffix.length &&
      candidate.startsWith(prefix) &&
      candidate.endsWith(suffix)
  })
  return (origin) => patterns.some((matches) => matches(origin.toLowerCase()))
}

/**
 * CORS as IPFS Cluster 1.x serves it (github.com/rs/cors in front of its router): a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 here, with the CORS headers
 * only when origin, method and headers are allowed; other requests from an allowed origin get
 * `Access-Control-Allow-Origin`, the exposed headers and credentials.
 */
export function registerCors(app: FastifyInstance, options: CorsOptions): void {
  const allowOrigin = originMatcher(options.allowedOrigins)
  const allOrigins = options.allowedOrigins.length === 0 || options.allowedOrigins.includes('*')
  const methods = new Set(
    (options.allowedMethods.length === 0 ? ['GET', 'POST', 'HEAD'] : options.allowedMethods).map(
      (method) => method.toUpperCase(),
    ),
  )
  const configuredHeaders =
    options.allowedHeaders.length === 0 ? defaultAllowedHeaders : options.allowedHeaders
  const allHeaders = configuredHeaders.includes('*')
  const headers = new Set([...configuredHeaders, 'Origin'].map((header) => header.toLowerCase()))
  const maxAgeSeconds = Math.floor(options.maxAge / 1000)

  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin
    const requestedMethod = request.headers['access-control-request-method']
    if (request.method === 'OPTIONS' && typeof requestedMethod === 'string') {
      reply.header('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers')
      const requestedHeaders = String(request.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((header) => header.trim())
        .filter((header) => header !== '')
      const allowed =
        typeof origin === 'string' &&
        allowOrigin(origin) &&
        (methods.has(requestedMethod.toUpperCase()) ||
          requestedMethod.toUpperCase() === 'OPTIONS') &&
        (allHeaders || requestedHeaders.every((header) => headers.has(header.toLowerCase())))
      if (allowed) {
        reply.header('access-control-allow-origin', allOrigins ? '*' : origin)
        reply.header('access-control-allow-methods', requestedMethod.toUpperCase())
        if (requestedHeaders.length > 0)
          reply.header('access-control-allow-headers', requestedHeaders.join(', '))
        if (options.allowCredentials) reply.header('access-control-allow-credentials', 'true')
        if (maxAgeSeconds > 0) reply.header('access-control-max-age', String(maxAgeSeconds))
      }
      return reply.code(204).send()
    }
    if (typeof origin !== 'string') return
    reply.header('vary', 'Origin')
    if (!allowOrigin(origin) || !methods.has(request.method)) return
    reply.header('access-control-allow-origin', allOrigins ? '*' : origin)
    if (options.exposedHeaders.length > 0)
      reply.header('access-control-expose-headers', options.exposedHeaders.join(', '))
    if (options.allowCredentials) reply.header('access-control-allow-credentials', 'true')
  })
}
