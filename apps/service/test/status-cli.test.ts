import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import type { GlobalPinInfo } from '@pinraft/cluster'
import { pinToClusterJson } from '@pinraft/state-pinset'
import fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { CliIo } from '../src/cli/io.ts'
import { followUpPin } from '../src/cli/pin-status.ts'
import { createProgram } from '../src/cli/program.ts'
import type { PinJson } from '../src/client/api-client.ts'
import { isIpfsPath, StatusClient } from '../src/client/status-client.ts'
import { handleError } from '../src/http/error-handler.ts'
import { pinStatusRoutes } from '../src/http/routes/pin-status.ts'
import { contentCid, eventually, StatusCluster } from './support/status-cluster.ts'

let cluster: StatusCluster | undefined
let server: FastifyInstance | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
  await cluster?.stop()
  cluster = undefined
})

async function started(count: number) {
  cluster = new StatusCluster()
  const peers = await cluster.start(count)
  server = fastify()
  server.setErrorHandler(handleError(pino({ level: 'silent' })))
  server.register(pinStatusRoutes, {
    cluster: peers[0]!.cluster,
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    now: () => Date.now(),
  })
  await server.listen({ host: '127.0.0.1', port: 0 })
  const host = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
  return { peers, cluster, host }
}

function testIo(): CliIo & { out: () => string } {
  let stdout = ''
  return {
    stdout: (text) => {
      stdout += text
    },
    stderr: () => {},
    stdin: Readable.from([]),
    interactive: false,
    environment: {},
    out: () => stdout,
  }
}

/** Runs `pinraft <args>` with the status and recover commands added, as the integrator will. */
async function run(args: string[]): Promise<string> {
  const io = testIo()
  const program = createProgram(io)
  await program.parseAsync(args, { from: 'user' })
  return io.out()
}

describe('pinraft status', () => {
  it('prints one line per peer for a CID, as ipfs-cluster-ctl', async () => {
    const { cluster, host } = await started(2)
    const cid = await cluster.pinEverywhere('text', 'docs')
    const text = await run(['status', cid.toString(), '--host', host])
    const [title, ...peers] = text.trimEnd().split('\n')
    expect(title).toBe(`${cid} | docs:`)
    expect(peers).toHaveLength(2)
    for (const line of peers) {
      expect(line).toMatch(
        /^ {4}> peer[12] {16}: PINNED \| \d{4}-\d\d-\d\dT[^|]+Z \| Attempts: 0 \| Priority: false$/,
      )
    }
  })

  it('prints one JSON object per line with --enc json, for all pins or several CIDs', async () => {
    const { cluster, host } = await started(1)
    const a = await cluster.pinEverywhere('json a')
    const b = await cluster.pinEverywhere('json b')
    const all = (await run(['status', '--enc', 'json', '--host', host])).trimEnd().split('\n')
    expect(all.map((line) => JSON.parse(line).cid).sort()).toEqual([a, b].map(String).sort())
    const some = (
      await run(['status', b.toString(), a.toString(), '--enc', 'json', '--host', host])
    )
      .trimEnd()
      .split('\n')
    expect(some.map((line) => JSON.parse(line).cid)).toEqual([b.toString(), a.toString()])
  })

  it('filters, and refuses a bad filter or CID before asking', async () => {
    const { cluster, host, peers } = await started(1)
    await cluster.pinEverywhere('kept')
    const lost = await cluster.pinEverywhere('lost')
    peers[0]!.connector.removePinBehindTheBack(lost)
    const text = await run([
      'status',
      '--filter',
      'unexpectedly_unpinned',
      '--local',
      '--host',
      host,
    ])
    expect(text).toContain(`${lost}:`)
    expect(text).toContain('UNEXPECTEDLY_UNPINNED: the item should be pinned but it is not')
    expect(text.trimEnd().split('\n')).toHaveLength(2)
    await expect(run(['status', '--filter', 'lost', '--host', host])).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringMatching(/^parsing filter flag: invalid filter value "lost"/),
    })
    await expect(run(['status', 'nope', '--host', host])).rejects.toMatchObject({
      name: 'UsageError',
    })
  })
})

describe('StatusClient', () => {
  it('reads the X-Stream-Error trailer and fails the stream with it', async () => {
    cluster = new StatusCluster()
    const [peer] = await cluster.start(1)
    await cluster.pinEverywhere('before the failure')
    const real = peer!.cluster
    const failing = Object.assign(Object.create(real) as typeof real, {
      async *statusAll(): AsyncGenerator<GlobalPinInfo> {
        for await (const global of real.statusAll()) yield global
        throw new Error('peer 12D3KooWX: stream reset')
      },
    })
    server = fastify()
    server.setErrorHandler(handleError(pino({ level: 'silent' })))
    server.register(pinStatusRoutes, {
      cluster: failing,
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      now: () => Date.now(),
    })
    await server.listen({ host: '127.0.0.1', port: 0 })
    const client = new StatusClient({
      baseUrl: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    })
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const global of client.statusAll()) seen.push(global.cid)
      })(),
    ).rejects.toMatchObject({
      name: 'ApiResponseError',
      message: 'the stream failed: peer 12D3KooWX: stream reset',
    })
    expect(seen).toHaveLength(1)
  })
})

describe('pins by path from the client', () => {
  it('pins and unpins /ipfs/<cid>/path through the peer, which resolves it', async () => {
    const { cluster, host, peers } = await started(1)
    const root = await contentCid('path root')
    const target = await contentCid('path target')
    peers[0]!.connector.setResolution(`/ipfs/${root}/a b/c`, target)
    const client = new StatusClient({ baseUrl: host })
    expect(isIpfsPath(`/ipfs/${root}/a b/c`)).toBe(true)
    expect(isIpfsPath(root.toString())).toBe(false)
    const pinned = await client.pinPath(`/ipfs/${root}/a b/c`, {
      name: 'spaced',
      replicationMin: 1,
      replicationMax: 2,
    })
    expect(pinned).toMatchObject({
      cid: target.toString(),
      name: 'spaced',
      replication_factor_min: 1,
    })
    expect(cluster.group.pinset.has(target)).toBe(true)
    expect((await client.unpinPath(`/ipfs/${root}/a b/c`)).cid).toBe(target.toString())
    await expect(client.unpinPath(`/ipfs/${root}/a b/c`)).rejects.toMatchObject({
      name: 'ApiResponseError',
      status: 404,
    })
    await expect(client.pinPath('ipfs/x')).rejects.toMatchObject({ name: 'UsageError' })
  })
})

describe('pinraft recover', () => {
  it('recovers a CID lost by a peer and prints its status', async () => {
    const { cluster, host, peers } = await started(2)
    const cid = await cluster.pinEverywhere('recover')
    peers[1]!.connector.removePinBehindTheBack(cid)
    const text = await run(['recover', cid.toString(), '--host', host])
    expect(text).toMatch(/> peer2 +: (PINNING|PIN_QUEUED|PINNED)/)
    await eventually(async () => peers[1]!.connector.isPinned(cid))
    expect(await run(['recover', '--host', host])).toBe('')
  })
})

describe('pin add follow-up', () => {
  function pinJson(cluster: StatusCluster, cid: string): PinJson {
    return JSON.parse(pinToClusterJson(cluster.group.pinset.get(cid)!)) as PinJson
  }

  it('--wait returns only once every peer pinned it, then prints the status', async () => {
    const { cluster, host, peers } = await started(2)
    const cid = await contentCid('waited for')
    cluster.group.pin({ cid, timestamp: Date.now() })
    const io = testIo()
    let done = false
    const waiting = followUpPin(
      io,
      { status: true, wait: true, enc: 'text', timeout: '10', host },
      pinJson(cluster, cid.toString()),
      'pinned',
      { interval: 10 },
    ).then(() => {
      done = true
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(done).toBe(false)
    // The content appears on peer 1: both peers pin it and the wait ends.
    peers[0]!.connector.addContent(cid)
    await waiting
    expect(io.out().match(/PINNED/g)).toHaveLength(2)
  })

  it('--wait fails with exit code 2 on a pin error and 62 on --wait-timeout', async () => {
    const { cluster, host, peers } = await started(1)
    const failing = await contentCid('fails')
    peers[0]!.connector.addContent(failing)
    peers[0]!.connector.failNextPin(new Error('ipfs: out of disk'), failing)
    cluster.group.pin({ cid: failing, timestamp: Date.now() })
    await expect(
      followUpPin(
        testIo(),
        { status: true, wait: true, enc: 'text', timeout: '10', host },
        pinJson(cluster, failing.toString()),
        'pinned',
        { interval: 10 },
      ),
    ).rejects.toMatchObject({
      name: 'PinFollowUpError',
      exitCode: 2,
      message: expect.stringContaining('ipfs: out of disk'),
    })
    const never = await contentCid('never there')
    cluster.group.pin({ cid: never, timestamp: Date.now() })
    await expect(
      followUpPin(
        testIo(),
        { status: true, wait: true, waitTimeout: '100ms', enc: 'text', timeout: '10', host },
        pinJson(cluster, never.toString()),
        'pinned',
        { interval: 10 },
      ),
    ).rejects.toMatchObject({ name: 'PinFollowUpError', exitCode: 62 })
  })

  it('--no-status prints the pin; without --wait it prints the status once', async () => {
    const { cluster, host } = await started(1)
    const cid = await cluster.pinEverywhere('no status', 'quiet')
    const quiet = testIo()
    await followUpPin(
      quiet,
      { status: false, enc: 'text', timeout: '10', host },
      pinJson(cluster, cid.toString()),
      'pinned',
    )
    expect(quiet.out()).toMatch(new RegExp(`^${cid} \\| quiet \\| PIN \\|`))
    const loud = testIo()
    await followUpPin(
      loud,
      { status: true, enc: 'json', timeout: '10', host },
      pinJson(cluster, cid.toString()),
      'pinned',
      { settle: 0 },
    )
    expect(JSON.parse(loud.out()).peer_map).toBeDefined()
  })
})
