import { connect } from 'node:net'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RestApiConfiguration } from '../src/config/service-configuration.ts'
import { basicAuthMatches } from '../src/http/basic-auth.ts'
import { startApiServer } from '../src/http/server.ts'
import type { Logger } from '../src/logging/logger.ts'
import { type ApiFixture, apiFixture, CID_V1, jsonLines } from './support/api-fixture.ts'
import { cidFor } from './support/processes.ts'

/** IPFS Cluster 1.x's HTTP behaviour beyond the routes (api/common/api.go, api/rest/restapi.go). */

let fixture: ApiFixture

beforeEach(async () => {
  fixture = await apiFixture()
})

afterEach(async () => {
  await fixture.app.close()
})

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

describe('basic auth as 1.x', () => {
  let secured: ApiFixture
  beforeEach(async () => {
    secured = await apiFixture({ api: { basicAuthCredentials: { admin: 'hunter2', ops: 'x' } } })
  })
  afterEach(async () => {
    await secured.app.close()
  })

  it('challenges a request without credentials with Bearer and Basic', async () => {
    const response = await secured.app.inject({ method: 'GET', url: '/id' })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toEqual({ code: 401, message: 'unauthorized: no auth provided' })
    expect(response.headers['www-authenticate']).toEqual([
      'Bearer realm="Restricted IPFS Cluster API"',
      'Basic realm="Restricted IPFS Cluster API"',
    ])
  })

  it('denies wrong credentials, an unknown user and an empty password alike', async () => {
    for (const authorization of [
      basic('admin', 'wrong'),
      basic('nobody', 'hunter2'),
      basic('admin', ''),
    ]) {
      const response = await secured.app.inject({
        method: 'GET',
        url: '/id',
        headers: { authorization },
      })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual({ code: 401, message: 'unauthorized: access denied' })
      expect(response.headers['www-authenticate']).toBe('Basic realm="Restricted IPFS Cluster API"')
    }
  })

  it('refuses a bearer token as invalid (pinraft issues none)', async () => {
    const response = await secured.app.inject({
      method: 'GET',
      url: '/id',
      headers: { authorization: 'Bearer abc' },
    })
    expect(response.json()).toEqual({ code: 401, message: 'unauthorized: invalid token' })
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="Restricted IPFS Cluster API", error="invalid_token"',
    )
  })

  it('lets GET /health, GET /health/ready and OPTIONS through without credentials', async () => {
    for (const url of ['/health', '/health/ready'])
      expect((await secured.app.inject({ method: 'GET', url })).statusCode).toBe(204)
    const preflight = await secured.app.inject({
      method: 'OPTIONS',
      url: '/pins',
      headers: { origin: 'https://example.org', 'access-control-request-method': 'GET' },
    })
    expect(preflight.statusCode).toBe(204)
    const valid = await secured.app.inject({
      method: 'GET',
      url: '/version',
      headers: { authorization: basic('ops', 'x') },
    })
    expect(valid.statusCode).toBe(200)
  })

  it('matches credentials only when user and password both match one pair', () => {
    const credentials = { admin: 'hunter2', ops: 'a much longer password than the other' }
    expect(basicAuthMatches(basic('admin', 'hunter2'), credentials)).toBe(true)
    expect(
      basicAuthMatches(basic('ops', 'a much longer password than the other'), credentials),
    ).toBe(true)
    expect(
      basicAuthMatches(basic('admin', 'a much longer password than the other'), credentials),
    ).toBe(false)
    expect(basicAuthMatches(basic('admin', 'hunter'), credentials)).toBe(false)
    expect(basicAuthMatches(basic('admin', 'hunter22'), credentials)).toBe(false)
    expect(basicAuthMatches(basic('toString', ''), credentials)).toBe(false)
    expect(basicAuthMatches(basic('', ''), { '': '' })).toBe(false)
    expect(basicAuthMatches('basic !!!', credentials)).toBe(false)
  })
})

describe('CORS as 1.x', () => {
  it('answers a preflight for an allowed method with the CORS headers', async () => {
    const response = await fixture.app.inject({
      method: 'OPTIONS',
      url: '/allocations',
      headers: {
        origin: 'https://webui.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'Content-Type',
      },
    })
    expect(response.statusCode).toBe(204)
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'Content-Type',
      'access-control-allow-credentials': 'true',
    })
  })

  it('answers a preflight for a method not in cors_allowed_methods without allowing it', async () => {
    const response = await fixture.app.inject({
      method: 'OPTIONS',
      url: `/pins/${CID_V1}`,
      headers: { origin: 'https://webui.example', 'access-control-request-method': 'POST' },
    })
    expect(response.statusCode).toBe(204)
    expect(response.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('adds the origin, exposed headers and credentials to a request from an allowed origin', async () => {
    const response = await fixture.app.inject({
      method: 'GET',
      url: '/version',
      headers: { origin: 'https://webui.example' },
    })
    expect(response.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-expose-headers':
        'Content-Type, X-Stream-Output, X-Chunked-Output, X-Content-Length',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    })
  })

  it('follows the configured origins, methods and max age', async () => {
    const configured = await apiFixture({
      api: {
        cors: {
          allowedOrigins: ['https://*.example'],
          allowedMethods: ['GET', 'POST'],
          allowedHeaders: [],
          exposedHeaders: [],
          allowCredentials: false,
          maxAge: 600_000,
        },
      },
    })
    try {
      const allowed = await configured.app.inject({
        method: 'OPTIONS',
        url: `/pins/${CID_V1}`,
        headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' },
      })
      expect(allowed.headers).toMatchObject({
        'access-control-allow-origin': 'https://a.example',
        'access-control-allow-methods': 'POST',
        'access-control-max-age': '600',
      })
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined()
      const other = await configured.app.inject({
        method: 'GET',
        url: '/version',
        headers: { origin: 'https://elsewhere.org' },
      })
      expect(other.headers['access-control-allow-origin']).toBeUndefined()
    } finally {
      await configured.app.close()
    }
  })
})

describe('requests as 1.x clients send them', () => {
  it('pins with an empty body of any content type (curl -d "")', async () => {
    for (const contentType of [
      'application/x-www-form-urlencoded',
      'application/json',
      'text/plain',
    ]) {
      const response = await fixture.app.inject({
        method: 'POST',
        url: `/pins/${CID_V1}?name=hello`,
        headers: { 'content-type': contentType },
        payload: '',
      })
      expect(response.statusCode, contentType).toBe(200)
    }
    const withBody = await fixture.app.inject({
      method: 'POST',
      url: `/pins/${CID_V1}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from('ignored'),
    })
    expect(withBody.statusCode).toBe(200)
  })

  it('redirects a trailing slash with 307, keeping the query', async () => {
    const response = await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V1}/?name=a` })
    expect(response.statusCode).toBe(307)
    expect(response.headers.location).toBe(`/pins/${CID_V1}?name=a`)
    expect((await fixture.app.inject({ method: 'GET', url: '/id/' })).headers.location).toBe('/id')
  })

  it('answers a known path with another method 405, and an unknown path 404', async () => {
    expect((await fixture.app.inject({ method: 'PUT', url: `/pins/${CID_V1}` })).statusCode).toBe(
      405,
    )
    expect((await fixture.app.inject({ method: 'POST', url: '/id' })).statusCode).toBe(405)
    expect((await fixture.app.inject({ method: 'GET', url: '/nothing' })).statusCode).toBe(404)
  })
})

describe('GET /health/ready', () => {
  it('is 204 when consensus is ready', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(204)
  })

  it('is 503 with the reason when it is not, while /health stays 204', async () => {
    fixture.consensus.isReady = false
    fixture.consensus.leaderKnown = false
    const response = await fixture.app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.statusCode).toBe(503)
    expect(response.json().code).toBe(503)
    expect(response.json().message).toContain('waiting for a leader')
    expect(response.json().message).toContain('cluster.secret')
    expect((await fixture.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(204)
  })

  it("uses consensus's own waitingFor when its status has one", async () => {
    fixture.consensus.isReady = false
    fixture.consensus.waitingFor = 'the leader to send a snapshot'
    const response = await fixture.app.inject({ method: 'GET', url: '/health/ready' })
    expect(response.json().message).toBe('not ready: waiting for the leader to send a snapshot')
  })
})

describe('consistent reads', () => {
  it('asks consensus for a read index before answering ?consistent=true', async () => {
    await fixture.consensus.logPin({ cid: CID_V1, name: 'a' })
    for (const url of [`/allocations/${CID_V1}?consistent=true`, '/allocations?consistent=true']) {
      const before = fixture.consensus.calls.filter((call) => call.method === 'readIndex').length
      const response = await fixture.app.inject({ method: 'GET', url })
      expect(response.statusCode, url).toBe(200)
      const after = fixture.consensus.calls.filter((call) => call.method === 'readIndex')
      expect(after).toHaveLength(before + 1)
      // With a signal, so a client that goes away cancels it.
      expect(after.at(-1)?.argument).toBe(true)
    }
    await fixture.app.inject({ method: 'GET', url: `/allocations/${CID_V1}` })
    expect(fixture.consensus.calls.filter((call) => call.method === 'readIndex')).toHaveLength(2)
  })

  it('answers 503 in the error shape when the read index cannot be had', async () => {
    for (const name of ['NoLeaderError', 'TimeoutError', 'AbortError']) {
      fixture.consensus.failNext(name)
      const response = await fixture.app.inject({
        method: 'GET',
        url: `/allocations/${CID_V1}?consistent=true`,
      })
      expect(response.statusCode, name).toBe(503)
      expect(Object.keys(response.json())).toEqual(['code', 'message'])
    }
  })

  it('refuses a consistent value other than true or false', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/allocations?consistent=yes' })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toContain('consistent must be true or false')
  })
})

describe('GET /allocations streams', () => {
  it('pulls pins only as the client reads them', async () => {
    let produced = 0
    let finished = false
    const endless = async function* () {
      try {
        for (let index = 0; ; index++) {
          produced++
          yield { ...(fixture.consensus.pinset.get(CID_V1) ?? (await pinFor(index))) }
        }
      } finally {
        finished = true
      }
    }
    const pinFor = async (index: number) =>
      fixture.consensus.logPin({ cid: await cidFor(index), name: `p${index}` })
    const template = await pinFor(0)
    const state = fixture.consensus.state.bind(fixture.consensus)
    fixture.consensus.state = () => ({ ...state(), list: () => endless() })
    void template
    const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 })
    const controller = new AbortController()
    const response = await fetch(`${address}/allocations`, { signal: controller.signal })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    let text = ''
    while (text.split('\n').length < 100)
      text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    await reader.cancel().catch(() => {})
    for (let wait = 0; wait < 100 && !finished; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(finished).toBe(true)
    // A buffered list would never end; a stream stops soon after the client does.
    expect(produced).toBeLessThan(1_000_000)
    expect(jsonLines(text.slice(0, text.lastIndexOf('\n'))).length).toBeGreaterThanOrEqual(99)
  })

  it('writes a long list in chunks of many lines, not a write per pin, every line whole', async () => {
    const count = 2000
    for (let index = 0; index < count; index++)
      await fixture.consensus.logPin({ cid: await cidFor(index), name: `p${index}` })
    let writes = 0
    const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 })
    // Counts what the route writes on the response, before any byte of it is written.
    fixture.app.server.on('request', (_request, raw) => {
      const write = raw.write.bind(raw) as (...args: unknown[]) => boolean
      raw.write = ((...args: unknown[]) => {
        writes++
        return write(...args)
      }) as typeof raw.write
    })
    const response = await fetch(`${address}/allocations`)
    expect(response.status).toBe(200)
    const pins = jsonLines(await response.text())
    expect(pins).toHaveLength(count)
    expect(new Set(pins.map((pin) => (pin as { cid: string }).cid)).size).toBe(count)
    // About 400 bytes a pin: 2,000 pins are some 25 chunks of 32 KiB (and the first line).
    expect(writes).toBeLessThan(count / 20)
  })
})

describe('logging', () => {
  function capture(level: 'info' | 'debug'): {
    logger: Logger
    lines: Record<string, unknown>[]
  } {
    const lines: Record<string, unknown>[] = []
    const logger = pino(
      { level },
      { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    )
    return { logger: logger as unknown as Logger, lines }
  }

  it('logs a known 503 cause once at warn until a request succeeds again', async () => {
    const { logger, lines } = capture('info')
    const logged = await apiFixture({ logger })
    try {
      for (let count = 0; count < 3; count++) {
        logged.consensus.failNext('NoLeaderError')
        const response = await logged.app.inject({ method: 'POST', url: `/pins/${CID_V1}` })
        expect(response.statusCode).toBe(503)
      }
      expect(lines.filter((line) => line.cause === 'NoLeaderError')).toHaveLength(1)
      expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([])
      expect((await logged.app.inject({ method: 'GET', url: '/id' })).statusCode).toBe(200)
      logged.consensus.failNext('NoLeaderError')
      await logged.app.inject({ method: 'POST', url: `/pins/${CID_V1}` })
      expect(lines.filter((line) => line.cause === 'NoLeaderError')).toHaveLength(2)
    } finally {
      await logged.app.close()
    }
  })

  it("writes no line per pin at info, and at debug never puts the pin name in pino's name field", async () => {
    const info = capture('info')
    const quiet = await apiFixture({ logger: info.logger })
    await quiet.app.inject({ method: 'POST', url: `/pins/${CID_V1}?name=hello` })
    expect(info.lines).toEqual([])
    await quiet.app.close()
    const debug = capture('debug')
    const verbose = await apiFixture({ logger: debug.logger })
    await verbose.app.inject({ method: 'POST', url: `/pins/${CID_V1}?name=hello` })
    await verbose.app.close()
    expect(debug.lines.some((line) => line.pinName === 'hello')).toBe(true)
    expect(debug.lines.some((line) => line.name === 'hello')).toBe(false)
    // The access log, at debug.
    expect(debug.lines).toContainEqual(
      expect.objectContaining({ msg: 'HTTP request', method: 'POST', status: 200 }),
    )
  })
})

function restApi(overrides: Partial<RestApiConfiguration>): RestApiConfiguration {
  return {
    listenMultiaddress: '/ip4/127.0.0.1/tcp/0',
    listen: { host: '127.0.0.1', port: 0 },
    tls: null,
    basicAuthCredentials: null,
    readHeaderTimeout: 5000,
    idleTimeout: 120_000,
    maxHeaderBytes: 4096,
    headers: {},
    cors: {
      allowedOrigins: ['*'],
      allowedMethods: ['GET'],
      allowedHeaders: [],
      exposedHeaders: [],
      allowCredentials: true,
      maxAge: 0,
    },
    ...overrides,
  }
}

describe('the listening server', () => {
  it('answers headers larger than max_header_bytes with 431 in the error shape', async () => {
    const server = await startApiServer(
      fixture.context,
      restApi({ maxHeaderBytes: 1024 }),
      pino({ level: 'silent' }),
    )
    try {
      const response = await fetch(`${server.url}/id`, { headers: { 'x-big': 'a'.repeat(4000) } })
      expect(response.status).toBe(431)
      expect(await response.json()).toEqual({
        code: 431,
        message: expect.stringContaining('max_header_bytes'),
      })
    } finally {
      await server.close()
    }
  })

  it('closes 300 sockets that send partial headers once read_header_timeout has passed', async () => {
    const server = await startApiServer(
      fixture.context,
      restApi({ readHeaderTimeout: 300 }),
      pino({ level: 'silent' }),
    )
    const { port } = new URL(server.url)
    const closed: Promise<void>[] = []
    try {
      for (let index = 0; index < 300; index++) {
        const socket = connect(Number(port), '127.0.0.1')
        socket.on('error', () => {})
        // Read what the server answers (its 408), so that its end closes the socket here.
        socket.resume()
        socket.write('GET /id HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
        closed.push(new Promise((resolve) => socket.once('close', () => resolve())))
      }
      // Node's default check runs every 30 s; bounded well below that.
      const outcome = await Promise.race([
        Promise.all(closed).then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000)),
      ])
      expect(outcome).toBe('closed')
    } finally {
      await server.close(100)
    }
  })
})
