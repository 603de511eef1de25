import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  createEmbeddedConnector,
  type EmbeddedIpfsConnector,
  resolveEmbeddedConfiguration,
} from '@pinraft/ipfs-connector'
import { CID } from 'multiformats/cid'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ipfsIdJson } from '../src/daemon/ipfs-node.ts'
import { localRepoGc } from '../src/daemon/repo-gc.ts'
import type { ApiContext } from '../src/http/api-context.ts'
import { createApp } from '../src/http/app.ts'
import { newPeerId } from './support/api-fixture.ts'
import { MemoryConsensus } from './support/memory-consensus.ts'
import { waitFor } from './support/processes.ts'

let folder: string
let connector: EmbeddedIpfsConnector
let consensus: MemoryConsensus
let app: ReturnType<typeof createApp>
let url: string
const events: string[] = []

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pinraft-add-route-'))
  connector = createEmbeddedConnector({
    configuration: resolveEmbeddedConfiguration({ listen_multiaddress: '/ip4/127.0.0.1/tcp/0' }),
    folder: join(folder, 'ipfs'),
    privateKey: await generateKeyPair('Ed25519'),
  })
  await connector.start()
  const self = await newPeerId()
  consensus = new MemoryConsensus(self, [])
  const logger = pino({ level: 'info' }, { write: (line: string) => events.push(line) })
  const context: ApiContext = {
    consensus,
    peername: 'alpha',
    version: '9.9.9',
    addresses: () => [],
    peerAddresses: async () => [],
    remoteId: async (peer) => {
      throw new Error(`no ${peer}`)
    },
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    peerTimeout: 1000,
    now: () => Date.now(),
    logger,
    ipfs: {
      connector,
      id: () => ipfsIdJson(connector),
      localRepoGc: (options) =>
        localRepoGc(connector, { peerId: self, peername: 'alpha' }, options),
      remoteRepoGc: async (peer) => {
        throw new Error(`cannot reach ${peer}`)
      },
      repoGcTimeout: 10_000,
    },
  }
  app = createApp({ context })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  events.length = 0
})

afterEach(async () => {
  await app.close()
  await connector.stop()
  await rm(folder, { recursive: true, force: true })
})

function count(message: string): number {
  return events.filter((line) => line.includes(`"msg":"${message}"`)).length
}

describe('POST /add (in process, on a real embedded IPFS node)', () => {
  it('streams AddedOutput lines with the X-Stream-Error trailer and pins the root', async () => {
    const boundary = 'b0undary'
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="hello.txt"\r\nContent-Type: application/octet-stream\r\n\r\nhello world\n\r\n--${boundary}--\r\n`
    const response = await new Promise<{
      status: number
      text: string
      trailers: NodeJS.Dict<string>
    }>((resolve, reject) => {
      const request = httpRequest(`${url}/add?name=h&replication-min=2&replication-max=3`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      })
      request.on('error', reject)
      request.on('response', (incoming) => {
        let text = ''
        incoming.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        incoming.on('end', () =>
          resolve({ status: incoming.statusCode ?? 0, text, trailers: incoming.trailers }),
        )
      })
      request.end(body)
    })
    expect(response.status).toBe(200)
    expect(response.text).toBe(
      '{"name":"hello.txt","cid":"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o","size":20}\n',
    )
    expect(response.trailers['x-stream-error']).toBe('')
    const pin = consensus.state().get('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o')
    expect(pin).toMatchObject({ name: 'h', replicationFactorMin: 2, replicationFactorMax: 3 })
    expect(
      await connector.blockHas(CID.parse('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o')),
    ).toBe(true)
  })

  it('reads part names as boxo’s MultiFileReader escapes them (url.QueryEscape)', async () => {
    const boundary = 'names'
    const part = (name: string, type: string, body: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${body}\r\n`
    const response = await fetch(`${url}/add?stream-channels=false`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `${part('my+dir', 'application/x-directory', '')}${part('my+dir%2Fa%2Bb.txt', 'application/octet-stream', 'x')}--${boundary}--\r\n`,
    })
    expect(response.status).toBe(200)
    const names = ((await response.json()) as { name: string }[]).map((entry) => entry.name)
    expect(names).toEqual(['my dir/a+b.txt', 'my dir'])
  })

  it('refuses a symbolic link part with a 400 that says so', async () => {
    const boundary = 'link'
    const response = await fetch(`${url}/add`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="l"\r\nContent-Type: application/symlink\r\n\r\n/etc/passwd\r\n--${boundary}--\r\n`,
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { message: string }).message).toContain('symbolic link')
    expect(consensus.state().count()).toBe(0)
  })

  it('refuses a body that ends inside a file part with a 400, and pins nothing', async () => {
    const boundary = 'cut'
    const response = await fetch(`${url}/add?name=cut`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno closing boundary`,
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { message: string }).message).toContain(
      'malformed multipart request',
    )
    expect(consensus.state().count()).toBe(0)
  })

  it('gives up an add whose client goes away half-way, and pins nothing', async () => {
    const boundary = 'cut'
    const upload = httpRequest(`${url}/add?name=cut`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    upload.on('error', () => {})
    upload.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    upload.write(randomBytes(1024 * 1024))
    await waitFor(
      'the add to start',
      async () => (count('add started') > 0 ? true : undefined),
      10_000,
    )
    upload.destroy()
    await waitFor(
      'the add to be given up',
      async () => (count('add cancelled') > 0 ? true : undefined),
      10_000,
    )
    expect(consensus.state().count()).toBe(0)
  })

  it('answers POST /ipfs/gc?local=true with this peer’s RepoGC', async () => {
    await connector.blockPut(
      CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'),
      new TextEncoder().encode('hello world'),
    )
    const response = await fetch(`${url}/ipfs/gc?local=true`, { method: 'POST' })
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      peer_map: Record<string, { peer: string; peername: string; keys: { key: string }[] }>
    }
    const entries = Object.values(body.peer_map)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ peer: consensus.peerId, peername: 'alpha' })
    // Blocks are stored by multihash: the removed key names the same multihash.
    expect(entries[0]?.keys.map((key) => CID.parse(key.key).toV1().multihash.bytes.join())).toEqual(
      [
        CID.parse(
          'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e',
        ).multihash.bytes.join(),
      ],
    )
  })
})
