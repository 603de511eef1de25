import { createReadStream, existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

/**
 * Where the built dashboard is: `dist/ui` beside this file's build (the service's `build` copies
 * it there, so an installed package carries it), else the workspace's `apps/dashboard/dist`
 * (running from the sources).
 */
export function defaultDashboardFolder(): string | undefined {
  const candidates = ['../../ui/', '../../../../dashboard/dist/'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  )
  return candidates.find((folder) => existsSync(resolve(folder, 'index.html')))
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * The page talks only to this peer's API; nothing from elsewhere may load (no CDN, no fonts,
 * no frames of it). Inline `style` attributes are the charts' and bars' sizes.
 */
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).type('application/json').send({ code: 404, message })
}

/**
 * The file a path under `/ui/` names, inside `folder`, or null when the path is not a clean
 * relative path (`..`, `.`, empty segments, backslashes, NUL, bad escapes): nothing outside the
 * folder is ever read.
 */
export function dashboardFile(folder: string, path: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const segments = decoded.split('/')
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return null
  const root = resolve(folder)
  const file = resolve(root, ...segments)
  return file.startsWith(root + sep) ? file : null
}

/**
 * `GET /ui` and `GET /ui/*`: the dashboard (`@pinraft/dashboard`'s build) on the API's own
 * listener, behind the same basic auth. Hashed assets are cached for a year; the page itself is
 * revalidated (ETag) so a new build shows at once. A path that names no file and has no
 * extension is a view of the page (the page routes itself), so it gets `index.html`.
 */
export const uiRoutes: FastifyPluginAsync<{ folder?: string }> = async (app, options) => {
  const folder = options.folder ?? defaultDashboardFolder()

  /**
   * Sends `file` if it is one; says whether it did. (A boolean, not the reply: a reply is
   * thenable, so an async function returning it would resolve only once it was sent, with
   * nothing.) `immutable`: a hashed asset, whose name changes with its content.
   */
  async function sendFile(
    reply: FastifyReply,
    file: string,
    immutable: boolean,
    ifNoneMatch: string | undefined,
  ): Promise<boolean> {
    const info = await stat(file).catch(() => null)
    if (info === null || !info.isFile()) return false
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`
    reply
      .header('etag', etag)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', contentSecurityPolicy)
      .header('referrer-policy', 'no-referrer')
    if (ifNoneMatch?.split(/\s*,\s*/).includes(etag)) {
      void reply.code(304).send()
      return true
    }
    void reply
      .type(contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('content-length', info.size)
      .send(createReadStream(file))
    return true
  }

  async function serve(
    reply: FastifyReply,
    path: string,
    ifNoneMatch: string | undefined,
  ): Promise<FastifyReply> {
    if (folder === undefined)
      return notFound(
        reply,
        'the dashboard is not built into this peer: run `pnpm build` in the pinraft checkout (it builds @pinraft/dashboard), then restart the daemon',
      )
    const index = resolve(folder, 'index.html')
    if (path === '')
      return (await sendFile(reply, index, false, ifNoneMatch))
        ? reply
        : notFound(reply, 'no index.html in the dashboard build')
    const file = dashboardFile(folder, path)
    if (file === null)
      return notFound(reply, `not found: ${JSON.stringify(path)} is not a file of the dashboard`)
    if (await sendFile(reply, file, path.startsWith('assets/'), ifNoneMatch)) return reply
    if (extname(file) === '' && (await sendFile(reply, index, false, ifNoneMatch))) return reply
    return notFound(reply, `not found: ${JSON.stringify(path)} is not a file of the dashboard`)
  }

  app.get('/ui', { schema: {} }, async (request, reply) =>
    serve(reply, '', request.headers['if-none-match']),
  )
  app.get<{ Params: { '*': string } }>('/ui/*', { schema: {} }, async (request, reply) => {
    // The raw path, not fastify's decoded parameter: each segment is decoded once, here.
    const raw = (request.raw.url ?? '').split('?')[0] ?? ''
    return serve(reply, raw.slice('/ui/'.length), request.headers['if-none-match'])
  })
}
