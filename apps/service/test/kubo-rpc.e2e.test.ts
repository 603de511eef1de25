import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FakeKubo, startFakeKubo } from '@pinraft/ipfs-connector/testing'
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
 * One `pinraft daemon` beside a "Kubo": the local server of @pinraft/ipfs-connector/testing that
 * answers with the request and response shapes Kubo's RPC API documents (not a real Kubo,
 * which cannot be installed here). /add writes its blocks there, the pin reaches pin/add.
 */

let root: string
let kubo: FakeKubo
let daemon: DaemonProcess | undefined
let client: ApiClient
let apiPort: number

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-kubo-rpc-e2e-'))
  kubo = await startFakeKubo()
  apiPort = await freePort()
  const folder = join(root, 'peer')
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    PINRAFT_SECRET: randomBytes(32).toString('hex'),
    PINRAFT_LOG_LEVEL: 'info',
    PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
    PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
  }
  const init = await runPinraft(
    ['--config', folder, 'init', '--ipfs-api', kubo.multiaddress],
    environment,
  )
  expect(init.code, init.stderr).toBe(0)
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
  await kubo.close()
  await rm(root, { recursive: true, force: true })
})

describe('a daemon beside Kubo (ipfs_connector.ipfshttp)', { timeout: 60_000 }, () => {
  it('shows Kubo’s ID in /id, adds through block/put and pins with pin/add', async () => {
    const id = await client.id()
    expect(id.ipfs).toEqual({
      id: '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf',
      addresses: [
        '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf',
      ],
      error: '',
    })
    const boundary = 'kubo'
    const response = await fetch(`http://127.0.0.1:${apiPort}/add?cid-version=1&name=k`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="h.txt"\r\nContent-Type: application/octet-stream\r\n\r\nhello world\r\n--${boundary}--\r\n`,
    })
    expect(response.status).toBe(200)
    const root = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    expect((await response.text()).trim()).toBe(
      JSON.stringify({ name: 'h.txt', cid: root, size: 11 }),
    )
    expect(kubo.blocks.has(root)).toBe(true)
    expect(kubo.requests).toContain(
      'POST /api/v0/block/put?cid-codec=raw&mhtype=sha2-256&mhlen=-1&pin=false',
    )
    await waitFor(
      'Kubo to pin the root',
      async () => (kubo.pins.get(root) === 'recursive' ? true : undefined),
      20_000,
    )
    expect(kubo.requests).toContain(`POST /api/v0/pin/add?arg=${root}&recursive=true&progress=true`)

    await client.unpin(root)
    await waitFor(
      'Kubo to unpin the root',
      async () => (kubo.pins.has(root) ? undefined : true),
      20_000,
    )
    const gc = await fetch(`http://127.0.0.1:${apiPort}/ipfs/gc`, { method: 'POST' })
    const result = (await gc.json()) as { peer_map: Record<string, { keys: unknown }> }
    expect(Object.values(result.peer_map)[0]?.keys).toEqual([
      { key: root },
      { key: null, error: 'could not remove QmFake: permission denied' },
    ])
  })
})
