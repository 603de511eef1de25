import { describe, expect, it } from 'vitest'
import { resolveConnectorConfiguration } from '../src/configuration/connector-configuration.ts'
import {
  defaultEmbeddedConfiguration,
  resolveEmbeddedConfiguration,
} from '../src/configuration/embedded-configuration.ts'
import { resolveIpfsHttpConfiguration } from '../src/configuration/ipfshttp-configuration.ts'

function failure(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a failure')
}

describe('ipfs_connector configuration', () => {
  it('defaults the embedded node to 0.0.0.0:4001 with every public-network switch off', () => {
    const configuration = resolveEmbeddedConfiguration(undefined)
    expect(configuration).toMatchObject({
      listenMultiaddresses: ['/ip4/0.0.0.0/tcp/4001'],
      bootstrap: [],
      storageMax: 10_000_000_000,
      pinTimeout: 120_000,
      unpinTimeout: 10_800_000,
      connectSwarmsDelay: 30_000,
      dht: false,
      delegatedRouting: false,
    })
    expect(resolveEmbeddedConfiguration(defaultEmbeddedConfiguration())).toEqual(configuration)
  })

  it('reads sizes as Kubo writes them and Go durations', () => {
    const configuration = resolveEmbeddedConfiguration({
      storage_max: '512MiB',
      pin_timeout: '1m30s',
      listen_multiaddress: ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'],
    })
    expect(configuration.storageMax).toBe(512 * 1024 * 1024)
    expect(configuration.pinTimeout).toBe(90_000)
    expect(configuration.listenMultiaddresses).toHaveLength(2)
  })

  it('names the key and the expected form of each bad value', () => {
    expect(failure(() => resolveEmbeddedConfiguration({ storage_max: 'lots' })).message).toBe(
      'ipfs_connector.embedded.storage_max must be a size such as "10GB", "500MiB" or a number of bytes, got "lots"',
    )
    expect(failure(() => resolveEmbeddedConfiguration({ pin_timeout: '2 minutes' })).name).toBe(
      'InvalidConnectorConfigurationError',
    )
    expect(
      failure(() => resolveEmbeddedConfiguration({ listen_multiaddress: 'localhost:4001' }))
        .message,
    ).toContain('ipfs_connector.embedded.listen_multiaddress[0] is not a valid multiaddress')
    expect(
      failure(() => resolveIpfsHttpConfiguration({ unpin_disable: 'yes' as never })).message,
    ).toBe('ipfs_connector.ipfshttp.unpin_disable must be true or false, got "yes"')
  })

  it('takes IPFS Cluster 1.x’s ipfshttp defaults', () => {
    expect(resolveIpfsHttpConfiguration(undefined)).toEqual({
      nodeMultiaddress: '/ip4/127.0.0.1/tcp/5001',
      connectSwarmsDelay: 30_000,
      ipfsRequestTimeout: 300_000,
      pinTimeout: 120_000,
      unpinTimeout: 10_800_000,
      repoGcTimeout: 86_400_000,
      unpinDisable: false,
    })
  })

  it('holds exactly one connector, the embedded one when the section is missing', () => {
    expect(resolveConnectorConfiguration(undefined).kind).toBe('embedded')
    expect(resolveConnectorConfiguration({ ipfshttp: {} }).kind).toBe('ipfshttp')
    expect(
      failure(() => resolveConnectorConfiguration({ embedded: {}, ipfshttp: {} })).message,
    ).toContain('holds both')
    expect(failure(() => resolveConnectorConfiguration({ kubo: {} })).message).toContain(
      'ipfs_connector.kubo is not a known connector',
    )
  })
})
