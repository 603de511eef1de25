import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient } from '../src/client/api-client.ts'
import {
  type DaemonProcess,
  freePort,
  runPinraft,
  spawnDaemon,
  waitFor,
} from './support/processes.ts'

/**
 * One `pinraft daemon` configured with `pinraft init --ipfs-api` against a local HTTP server
 * that answers like a broken Kubo (500 with Kubo's error body), then against nothing at all:
 * the daemon keeps serving, and every IPFS answer says what is wrong.
 */

let root: string
let kubo: Server
let kuboPort: number
let daemon: DaemonProcess | undefined
let client: ApiClient
let apiPort: number

function upload(): { body: Buffer; type: string } {
  const boundary = 'kubo-boundary'
  return {
    body: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--${boundary}--\r\n`,
    ),
    type: `multipart/form-data; boundary=${boundary}`,
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-kubo-e2e-'))
  kubo = createServer((_request, response) => {
    response.writeHead(500, { 'content-type': 'application/json' })
    response.end(
      `${JSON.stringify({ Message: 'failed to open repo: lock held', Code: 0, Type: 'error' })}\n`,
    )
  })
  await new Promise<void>((resolve) => kubo.listen(0, '127.0.0.1', resolve))
  kuboPort = (kubo.address() as AddressInfo).port
  apiPort = await freePort()
  const folder = join(root, 'peer')
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    PINRAFT_SECRET: randomBytes(32).toString('hex'),
    PINRAFT_LOG_LEVEL: 'info',
    PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
    PINRAFT_IPFS_CONNECTOR_IPFSHTTP_CONNECT_SWARMS_DELAY: '0s',
  }
  const init = await runPinraft(
    ['--config', folder, 'init', '--ipfs-api', `/ip4/127.0.0.1/tcp/${kuboPort}`],
    environment,
  )
  expect(init.code, init.stderr).toBe(0)
  const service = JSON.parse(await readFile(join(folder, 'service.json'), 'utf8'))
  expect(Object.keys(service.ipfs_connector)).toEqual(['ipfshttp'])
  daemon = spawnDaemon(['--config', folder, 'daemon'], environment)
  client = new ApiClient({ baseUrl: `http://127.0.0.1:${apiPort}`, timeout: 20_000 })
  await waitFor(
    'the daemon to be ready',
    async () => ((await client.metrics()).includes('pinraft_consensus_ready 1') ? true : undefined),
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${daemon?.output()}`)
  })
}, 60_000)

afterAll(async () => {
  if (daemon !== undefined) {
    daemon.child.kill('SIGKILL')
    await daemon.exited
  }
  kubo.closeAllConnections()
  await new Promise<void>((resolve) => kubo.close(() => resolve()))
  await rm(root, { recursive: true, force: true })
})

describe('a daemon whose Kubo fails', { timeout: 60_000 }, () => {
  it('reports Kubo’s 500 in /id and /add, and keeps serving', async () => {
    const id = await client.id()
    expect(id.ipfs.error).toBe('Kubo answered id with 500: failed to open repo: lock held')
    expect(id.ipfs.addresses).toEqual([])
    const { body, type } = upload()
    const response = await fetch(`http://127.0.0.1:${apiPort}/add`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    })
    expect(response.status).toBe(502)
    expect(((await response.json()) as { message: string }).message).toContain(
      'failed to open repo: lock held',
    )
    expect(await client.allocations()).toEqual([])
    // Consensus still takes pins; pinning them on Kubo fails, and the pin's status says why.
    const cid = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
    const pinned = await client.pin(cid)
    expect(pinned.cid).toBe(cid)
    const status = await waitFor(
      'the pin to be in pin_error',
      async () => {
        const response = await fetch(`http://127.0.0.1:${apiPort}/pins/${cid}?local=true`)
        const global = (await response.json()) as {
          peer_map: Record<string, { status: string; error: string }>
        }
        const entry = Object.values(global.peer_map)[0]
        return entry?.status === 'pin_error' ? entry : undefined
      },
      20_000,
    )
    expect(status.error).toContain('failed to open repo: lock held')
    expect(await client.version()).not.toBe('')
  })

  it('says Kubo is unreachable once it is down, and keeps serving', async () => {
    kubo.closeAllConnections()
    await new Promise<void>((resolve) => kubo.close(() => resolve()))
    const id = await client.id()
    expect(id.ipfs.error).toContain(`cannot reach Kubo's RPC API at http://127.0.0.1:${kuboPort}`)
    const { body, type } = upload()
    const response = await fetch(`http://127.0.0.1:${apiPort}/add`, {
      method: 'POST',
      headers: { 'content-type': type },
      body,
    })
    expect(response.status).toBe(502)
    expect(((await response.json()) as { message: string }).message).toContain('node_multiaddress')
    const gc = await fetch(`http://127.0.0.1:${apiPort}/ipfs/gc?local=true`, { method: 'POST' })
    expect(gc.status).toBe(200)
    const result = (await gc.json()) as { peer_map: Record<string, { error?: string }> }
    expect(Object.values(result.peer_map)[0]?.error).toContain("cannot reach Kubo's RPC API")
    expect((await client.peers()).map((peer) => peer.error)).toEqual([''])
  })
})
