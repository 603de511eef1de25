import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as TcpServer,
} from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CliIo } from '../src/cli/io.ts'
import { createProgram } from '../src/cli/program.ts'
import { handleError } from '../src/http/error-handler.ts'
import { pinStatusRoutes } from '../src/http/routes/pin-status.ts'
import { freePort } from './support/processes.ts'
import { StatusCluster } from './support/status-cluster.ts'

/**
 * `--host a,b,c` as ipfs-cluster-ctl: the streaming clients (`status`, `recover`, `add`, `ipfs gc`)
 * try the hosts in order. A host that refuses the connection is skipped; an upload that reached a
 * host is never sent to another one.
 */

let root: string
const closers: (() => Promise<void>)[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-failover-'))
})

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
  await rm(root, { recursive: true, force: true })
})

function testIo(): CliIo & { out: () => string; err: () => string } {
  let stdout = ''
  let stderr = ''
  return {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stdin: Readable.from([]),
    interactive: false,
    environment: {},
    out: () => stdout,
    err: () => stderr,
  }
}

async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const io = testIo()
  await createProgram(io).parseAsync(args, { from: 'user' })
  return { stdout: io.out(), stderr: io.err() }
}

/** An address where nothing listens: the connection is refused. */
async function refusingHost(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`
}

async function statusApi(): Promise<{ host: string; cluster: StatusCluster }> {
  const cluster = new StatusCluster()
  const peers = await cluster.start(2)
  const server: FastifyInstance = fastify()
  server.setErrorHandler(handleError(pino({ level: 'silent' })))
  server.register(pinStatusRoutes, {
    cluster: peers[0]!.cluster,
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    now: () => Date.now(),
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  closers.push(
    () => cluster.stop(),
    () => server.close(),
  )
  return { host: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`, cluster }
}

/** An `/add` endpoint that reads the whole upload, counts it, and answers one AddedOutput line. */
async function addApi(): Promise<{ host: string; uploads: () => number; bytes: () => number }> {
  let uploads = 0
  let bytes = 0
  const server: Server = createServer((request, response) => {
    uploads++
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length
    })
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        `${JSON.stringify({ name: 'a.bin', cid: 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e', size: 11 })}\n`,
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads: () => uploads,
    bytes: () => bytes,
  }
}

/** Accepts the connection, takes some of the upload, then resets it (a peer that dies mid-add). */
async function resettingHost(): Promise<{ host: string; received: () => number }> {
  let received = 0
  const server: TcpServer = createTcpServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length
      socket.resetAndDestroy()
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
  }
}

describe('status and recover with several --host', () => {
  it('skip a host that refuses the connection and answer from the next one', async () => {
    const { host, cluster } = await statusApi()
    const cid = await cluster.pinEverywhere('failover', 'over there')
    const hosts = `${await refusingHost()},${host}`
    const one = await run(['status', cid.toString(), '--host', hosts])
    expect(one.stdout).toMatch(new RegExp(`^${cid} \\| over there:\\n`))
    expect(one.stdout.match(/: PINNED \|/g)).toHaveLength(2)
    const all = await run(['status', '--enc', 'json', '--host', hosts])
    expect(
      all.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).cid),
    ).toEqual([cid.toString()])
    const recovered = await run(['recover', cid.toString(), '--enc', 'json', '--host', hosts])
    expect(JSON.parse(recovered.stdout).cid).toBe(cid.toString())
  })

  it('name every host tried when none can be reached', async () => {
    const [first, second] = [await refusingHost(), await refusingHost()]
    await expect(
      run(['status', '--host', `${first},${second}`, '--timeout', '5']),
    ).rejects.toMatchObject({
      name: 'ApiUnreachableError',
      message: expect.stringMatching(
        new RegExp(
          `^cannot reach the pinraft API at ${first} \\(.*ECONNREFUSED.*\\), ${second} \\(`,
        ),
      ),
    })
  })
})

describe('pinraft add with several --host', () => {
  it('uploads to the next host when the first refuses the connection, once', async () => {
    const file = join(root, 'a.bin')
    await writeFile(file, 'hello world')
    const api = await addApi()
    const result = await run(['add', file, '--host', `${await refusingHost()},${api.host}`])
    expect(result.stdout).toBe(
      'added bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e a.bin\n',
    )
    expect(api.uploads()).toBe(1)
    expect(api.bytes()).toBeGreaterThan(11)
  })

  it('does not send an upload that reached one host to another (no second pin)', async () => {
    const file = join(root, 'big.bin')
    await writeFile(file, Buffer.alloc(4 * 1024 * 1024, 7))
    const dying = await resettingHost()
    const api = await addApi()
    await expect(run(['add', file, '--host', `${dying.host},${api.host}`])).rejects.toMatchObject({
      name: 'ApiUnreachableError',
      message: expect.stringContaining(`cannot reach the pinraft API at ${dying.host} (`),
    })
    expect(dying.received()).toBeGreaterThan(0)
    expect(api.uploads()).toBe(0)
  })
})

describe('pinraft ipfs gc with several --host', () => {
  it('asks the next host when the first refuses the connection', async () => {
    let asked = 0
    const server: Server = createServer((request, response) => {
      asked++
      expect(request.url).toBe('/ipfs/gc?local=true')
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ peer_map: {} }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const result = await run([
      'ipfs',
      'gc',
      '--local',
      '--enc',
      'json',
      '--host',
      `${await refusingHost()},${host}`,
    ])
    expect(JSON.parse(result.stdout)).toEqual({ peer_map: {} })
    expect(asked).toBe(1)
  })
})
