import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveEmbeddedConfiguration } from '../src/configuration/embedded-configuration.ts'
import { createEmbeddedConnector } from '../src/embedded/embedded-connector.ts'
import { embeddedLibp2pOptions } from '../src/embedded/embedded-libp2p.ts'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('routing the operator turns on', () => {
  it('adds the DHT and ping services only when dht is on', async () => {
    const key = await generateKeyPair('Ed25519')
    const off = await embeddedLibp2pOptions(resolveEmbeddedConfiguration({}), key)
    expect(Object.keys(off.services ?? {}).sort()).toEqual(['identify', 'identifyPush'])
    const on = await embeddedLibp2pOptions(resolveEmbeddedConfiguration({ dht: true }), key)
    expect(Object.keys(on.services ?? {}).sort()).toEqual([
      'dht',
      'identify',
      'identifyPush',
      'ping',
    ])
    expect(typeof on.services?.dht).toBe('function')
  })

  it('asks the delegated routing endpoint for providers when delegated_routing is on', async () => {
    const asked: string[] = []
    const server: Server = createServer((request, response) => {
      asked.push(request.url ?? '')
      response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const folder = await mkdtemp(join(tmpdir(), 'pinraft-ipfs-routing-'))
    cleanups.push(() => rm(folder, { recursive: true, force: true }))
    const connector = createEmbeddedConnector({
      configuration: resolveEmbeddedConfiguration({
        listen_multiaddress: '/ip4/127.0.0.1/tcp/0',
        pin_timeout: '500ms',
        delegated_routing: true,
        delegated_routing_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      }),
      folder: join(folder, 'ipfs'),
      privateKey: await generateKeyPair('Ed25519'),
    })
    await connector.start()
    cleanups.push(() => connector.stop())
    const missing = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    await expect(connector.pin(missing)).rejects.toMatchObject({ name: 'PinTimeoutError' })
    const providers = `/routing/v1/providers/${missing.toString()}`
    expect(
      asked.some((url) => url === providers || url.startsWith(`${providers}?`)),
      String(asked),
    ).toBe(true)
  })
})
