import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliIo } from '../src/cli/io.ts'
import { runCli } from '../src/cli/program.ts'
import type { RestApiConfiguration } from '../src/config/service-configuration.ts'
import { type ApiServer, startApiServer } from '../src/http/server.ts'
import { type ApiFixture, apiFixture } from './support/api-fixture.ts'

/** ctl's --https, --no-check-certificate and --basic-auth against a self-signed HTTPS API. */

let root: string
let fixture: ApiFixture
let server: ApiServer
let host: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-tls-'))
  const certFile = join(root, 'cert.pem')
  const keyFile = join(root, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  )
  fixture = await apiFixture()
  const configuration: RestApiConfiguration = {
    listenMultiaddress: '/ip4/127.0.0.1/tcp/0',
    listen: { host: '127.0.0.1', port: 0 },
    tls: { certFile, keyFile },
    basicAuthCredentials: { admin: 'secret' },
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
  }
  server = await startApiServer(fixture.context, configuration, pino({ level: 'silent' }))
  host = `/ip4/127.0.0.1/tcp/${new URL(server.url).port}`
})

afterAll(async () => {
  await server.close(100)
  await fixture.app.close()
  await rm(root, { recursive: true, force: true })
})

async function run(
  args: string[],
  environment: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stdin: Readable.from([]),
    interactive: false,
    environment: { HOME: root, PATH: '', ...environment },
  }
  return { code: await runCli(args, io), stdout, stderr }
}

describe('the client over HTTPS', () => {
  it('refuses a self-signed certificate unless --no-check-certificate', async () => {
    const checked = await run([
      '--host',
      host,
      '--https',
      '--basic-auth',
      'admin:secret',
      'version',
    ])
    expect(checked.code).toBe(1)
    expect(checked.stderr).toContain('cannot reach the pinraft API at https://')
    const unchecked = await run([
      'version',
      '--host',
      host,
      '--https',
      '--no-check-certificate',
      '--basic-auth',
      'admin:secret',
    ])
    expect(unchecked.code, unchecked.stderr).toBe(0)
    expect(unchecked.stdout).toBe('9.9.9\n')
  })

  it('takes credentials from CLUSTER_CREDENTIALS, and they imply HTTPS as in ctl', async () => {
    const result = await run(['--host', host, '--no-check-certificate', 'version'], {
      CLUSTER_CREDENTIALS: 'admin:secret',
    })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain('HTTPS enabled because of the basic auth credentials')
    const wrong = await run(['--host', host, '--no-check-certificate', 'version'], {
      CLUSTER_CREDENTIALS: 'admin:nope',
    })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('unauthorized: access denied')
  })

  it('prints each request with --debug', async () => {
    const result = await run([
      '-d',
      '--host',
      host,
      '-s',
      '--no-check-certificate',
      '--basic-auth',
      'admin:secret',
      'version',
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toContain(
      `debug: GET https://127.0.0.1:${new URL(server.url).port}/version`,
    )
    expect(result.stderr).toMatch(/debug: 200 /)
  })
})
