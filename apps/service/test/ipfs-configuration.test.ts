import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { initializeFolder } from '../src/config/initialize.ts'
import { loadServiceConfiguration } from '../src/config/service-configuration.ts'

let folder: string

beforeEach(async () => {
  folder = join(await mkdtemp(join(tmpdir(), 'pinraft-ipfs-config-')), 'peer')
})
afterEach(async () => {
  await rm(join(folder, '..'), { recursive: true, force: true })
})

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

describe('the ipfs_connector section', () => {
  it('is written by init as the embedded node with every key at its default, public network off', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const json = JSON.parse(await readFile(join(folder, 'service.json'), 'utf8'))
    expect(Object.keys(json.ipfs_connector)).toEqual(['embedded'])
    expect(json.ipfs_connector.embedded).toMatchObject({
      listen_multiaddress: '/ip4/0.0.0.0/tcp/4001',
      bootstrap: [],
      pin_timeout: '2m0s',
      unpin_timeout: '3h0m0s',
      connect_swarms_delay: '30s',
      dht: false,
      delegated_routing: false,
    })
    const configuration = await loadServiceConfiguration(folder, {})
    expect(configuration.ipfsConnector.kind).toBe('embedded')
  })

  it('is written as ipfshttp with 1.x’s defaults by init --ipfs-api', async () => {
    await initializeFolder({ folder, peers: [], force: false, ipfsApi: '/ip4/127.0.0.1/tcp/5001' })
    const json = JSON.parse(await readFile(join(folder, 'service.json'), 'utf8'))
    expect(json.ipfs_connector).toEqual({
      ipfshttp: {
        node_multiaddress: '/ip4/127.0.0.1/tcp/5001',
        connect_swarms_delay: '30s',
        ipfs_request_timeout: '5m0s',
        pin_timeout: '2m0s',
        unpin_timeout: '3h0m0s',
        repogc_timeout: '24h0m0s',
        unpin_disable: false,
      },
    })
    const configuration = await loadServiceConfiguration(folder, {})
    expect(configuration.ipfsConnector).toMatchObject({
      kind: 'ipfshttp',
      ipfshttp: { pinTimeout: 120_000, ipfsRequestTimeout: 300_000 },
    })
  })

  it('refuses a bad --ipfs-api before writing anything', async () => {
    const error = await failure(
      initializeFolder({ folder, peers: [], force: false, ipfsApi: 'localhost:5001' }),
    )
    expect(error.name).toBe('InvalidConnectorConfigurationError')
    await expect(readFile(join(folder, 'service.json'))).rejects.toThrow()
  })

  it('refuses both connectors at once, and an unknown key, naming it', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const path = join(folder, 'service.json')
    const json = JSON.parse(await readFile(path, 'utf8'))
    await writeFile(
      path,
      JSON.stringify({ ...json, ipfs_connector: { embedded: {}, ipfshttp: {} } }),
    )
    const both = await failure(loadServiceConfiguration(folder, {}))
    expect(both.message).toContain('both "embedded" and "ipfshttp"')
    await writeFile(
      path,
      JSON.stringify({ ...json, ipfs_connector: { embedded: { pin_timeot: '1s' } } }),
    )
    const typo = await failure(loadServiceConfiguration(folder, {}))
    // Unknown keys are all reported at once, before any value is read (IPFS Cluster configs).
    expect(typo.name).toBe('UnknownConfigurationKeysError')
    expect(typo.message).toContain('ipfs_connector.embedded.pin_timeot: not a key of pinraft')
  })

  it('takes PINRAFT_IPFS_CONNECTOR_EMBEDDED_* overrides from the environment', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const configuration = await loadServiceConfiguration(folder, {
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_PIN_TIMEOUT: '5s',
    })
    expect(configuration.ipfsConnector).toMatchObject({
      kind: 'embedded',
      embedded: { listenMultiaddresses: ['/ip4/127.0.0.1/tcp/0'], pinTimeout: 5000 },
    })
  })

  it('keeps working for a service.json written before the connector existed', async () => {
    await initializeFolder({ folder, peers: [], force: false })
    const path = join(folder, 'service.json')
    const { ipfs_connector: _dropped, ...older } = JSON.parse(await readFile(path, 'utf8'))
    await writeFile(path, JSON.stringify(older))
    expect((await loadServiceConfiguration(folder, {})).ipfsConnector.kind).toBe('embedded')
  })
})
