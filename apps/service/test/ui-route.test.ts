import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/http/app.ts'
import { dashboardFile } from '../src/http/routes/ui.ts'
import { apiFixture } from './support/api-fixture.ts'

let root: string
let folder: string
const page =
  '<!doctype html><title>pinraft dashboard</title><script src="/ui/assets/app-1a2b.js"></script>'

/** Every line the apps of a test logged at warn or above: none is expected. */
let logged: string[] = []

async function appOver(dashboardFolder: string | undefined, credentials?: Record<string, string>) {
  const fixture = await apiFixture()
  const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(line) })
  const app = createApp({
    context: { ...fixture.context, logger },
    ...(credentials === undefined ? {} : { api: { basicAuthCredentials: credentials } }),
    ...(dashboardFolder === undefined ? {} : { dashboardFolder }),
  })
  await app.ready()
  return app
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-ui-route-'))
  folder = join(root, 'ui')
  await mkdir(join(folder, 'assets'), { recursive: true })
  await writeFile(join(folder, 'index.html'), page)
  await writeFile(join(folder, 'assets', 'app-1a2b.js'), 'console.log("dashboard")\n')
  await writeFile(join(folder, 'assets', 'app-1a2b.css'), 'body{margin:0}\n')
  await writeFile(join(folder, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  // Beside the folder, never to be served.
  await writeFile(join(root, 'secret.json'), '{"secret":true}')
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

beforeEach(() => {
  logged = []
})

afterEach(() => {
  // A handler that replied twice ("Reply was already sent") logs a warning and nothing else.
  expect(logged).toEqual([])
})

describe('GET /ui serves the dashboard', () => {
  it('answers the page at /ui with HTML, no-cache, an ETag and a policy that loads nothing from elsewhere', async () => {
    const app = await appOver(folder)
    const response = await app.inject({ method: 'GET', url: '/ui' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.headers['cache-control']).toBe('no-cache')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.headers['content-security-policy']).toContain("default-src 'self'")
    expect(response.headers['content-security-policy']).toContain("connect-src 'self'")
    expect(response.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
    expect(response.body).toBe(page)
    await app.close()
  })

  it('answers 304 to a request that already has the page (If-None-Match)', async () => {
    const app = await appOver(folder)
    const first = await app.inject({ method: 'GET', url: '/ui' })
    const again = await app.inject({
      method: 'GET',
      url: '/ui',
      headers: { 'if-none-match': String(first.headers.etag) },
    })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    await app.close()
  })

  it('serves hashed assets with their types, cached for a year as immutable', async () => {
    const app = await appOver(folder)
    const script = await app.inject({ method: 'GET', url: '/ui/assets/app-1a2b.js' })
    expect(script.statusCode).toBe(200)
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(script.body).toBe('console.log("dashboard")\n')
    const style = await app.inject({ method: 'GET', url: '/ui/assets/app-1a2b.css' })
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8')
    const image = await app.inject({ method: 'GET', url: '/ui/assets/logo.svg' })
    expect(image.headers['content-type']).toBe('image/svg+xml')
    // Outside assets/ a file keeps its name across builds: revalidated, never immutable.
    const page = await app.inject({ method: 'GET', url: '/ui/index.html' })
    expect(page.headers['cache-control']).toBe('no-cache')
    await app.close()
  })

  it('answers the page for a view path without an extension (the page routes itself)', async () => {
    const app = await appOver(folder)
    const response = await app.inject({ method: 'GET', url: '/ui/pins/bafy' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe(page)
    await app.close()
  })

  it('answers 404 in {code, message} for a missing file with an extension', async () => {
    const app = await appOver(folder)
    const response = await app.inject({ method: 'GET', url: '/ui/assets/missing.js' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({
      code: 404,
      message: 'not found: "assets/missing.js" is not a file of the dashboard',
    })
    await app.close()
  })

  it('never reads outside its folder, however the path is written', async () => {
    const app = await appOver(folder)
    for (const url of [
      '/ui/%2e%2e/secret.json',
      '/ui/..%2fsecret.json',
      '/ui/assets/..%2f..%2fsecret.json',
      '/ui/%2e%2e%5csecret.json',
      '/ui/assets/%00.js',
      '/ui/%E0%A4%A.json',
    ]) {
      const response = await app.inject({ method: 'GET', url })
      // 404, or fastify's own 400 for an escape that is not UTF-8: never the file.
      expect([400, 404], url).toContain(response.statusCode)
      expect(response.body, url).not.toContain('"secret":true')
    }
    await app.close()
  })

  it('redirects /ui/ to /ui as every other path ending in a slash (1.x router)', async () => {
    const app = await appOver(folder)
    const response = await app.inject({ method: 'GET', url: '/ui/' })
    expect(response.statusCode).toBe(307)
    expect(response.headers.location).toBe('/ui')
    await app.close()
  })

  it('is behind the API’s basic auth', async () => {
    const app = await appOver(folder, { admin: 'secret' })
    const anonymous = await app.inject({ method: 'GET', url: '/ui' })
    expect(anonymous.statusCode).toBe(401)
    const asset = await app.inject({ method: 'GET', url: '/ui/assets/app-1a2b.js' })
    expect(asset.statusCode).toBe(401)
    const signedIn = await app.inject({
      method: 'GET',
      url: '/ui',
      headers: { authorization: `Basic ${Buffer.from('admin:secret').toString('base64')}` },
    })
    expect(signedIn.statusCode).toBe(200)
    expect(signedIn.body).toBe(page)
    await app.close()
  })

  it('says how to build the dashboard when this peer has none', async () => {
    const app = await appOver(join(root, 'not-built'))
    const response = await app.inject({ method: 'GET', url: '/ui' })
    expect(response.statusCode).toBe(404)
    expect(response.json().message).toBe('no index.html in the dashboard build')
    await app.close()
  })
})

describe('dashboardFile', () => {
  it('keeps clean relative paths inside the folder and refuses the rest', () => {
    expect(dashboardFile('/srv/ui', 'assets/a.js')).toBe('/srv/ui/assets/a.js')
    expect(dashboardFile('/srv/ui', 'assets%2Fa.js')).toBe('/srv/ui/assets/a.js')
    expect(dashboardFile('/srv/ui', '../etc/passwd')).toBeNull()
    expect(dashboardFile('/srv/ui', 'assets/../../etc/passwd')).toBeNull()
    expect(dashboardFile('/srv/ui', './index.html')).toBeNull()
    expect(dashboardFile('/srv/ui', 'assets//a.js')).toBeNull()
    expect(dashboardFile('/srv/ui', 'a\\..\\b')).toBeNull()
    expect(dashboardFile('/srv/ui', '%zz')).toBeNull()
  })
})
