import { InvalidConnectorConfigurationError } from '../errors.ts'
import {
  booleanValue,
  byteSize,
  durationInRange,
  multiaddressList,
  refuseUnknownKeys,
} from './values.ts'

/**
 * `ipfs_connector.embedded`: the Helia node inside the daemon. Every switch that reaches the
 * public IPFS network is off by default: the node then dials only its cluster peers' IPFS nodes,
 * the `bootstrap` list and a pin's origins.
 */
export interface EmbeddedConfiguration {
  readonly listenMultiaddresses: readonly string[]
  /** Addresses announced instead of the listen addresses (empty: the listen addresses). */
  readonly announceMultiaddresses: readonly string[]
  /** IPFS nodes connected to on start (none by default: no public bootstrap list). */
  readonly bootstrap: readonly string[]
  /** Bytes `repoStat` reports as the storage maximum. */
  readonly storageMax: number
  readonly pinTimeout: number
  readonly unpinTimeout: number
  readonly repoGcTimeout: number
  readonly connectSwarmsDelay: number
  /** Join the public Amino DHT (provide and find content on the public network). */
  readonly dht: boolean
  /** Ask a delegated routing endpoint (HTTP) for providers. */
  readonly delegatedRouting: boolean
  readonly delegatedRoutingUrl: string
}

export interface EmbeddedConfigurationJson {
  listen_multiaddress?: string | string[]
  announce_multiaddress?: string[]
  bootstrap?: string[]
  storage_max?: string | number
  pin_timeout?: string
  unpin_timeout?: string
  repogc_timeout?: string
  connect_swarms_delay?: string
  dht?: boolean
  delegated_routing?: boolean
  delegated_routing_url?: string
}

export const defaultEmbeddedConfigurationJson: Readonly<Required<EmbeddedConfigurationJson>> = {
  listen_multiaddress: '/ip4/0.0.0.0/tcp/4001',
  announce_multiaddress: [],
  bootstrap: [],
  storage_max: '10GB',
  pin_timeout: '2m0s',
  unpin_timeout: '3h0m0s',
  repogc_timeout: '24h0m0s',
  connect_swarms_delay: '30s',
  dht: false,
  delegated_routing: false,
  delegated_routing_url: 'https://delegated-ipfs.dev',
}

const day = 86_400_000

/** Validates and resolves the section; each error names the key and says what it takes. */
export function resolveEmbeddedConfiguration(
  json: EmbeddedConfigurationJson | undefined,
): EmbeddedConfiguration {
  const section: Record<string, unknown> = { ...(json ?? {}) }
  refuseUnknownKeys('embedded', section, Object.keys(defaultEmbeddedConfigurationJson))
  const value = (key: keyof EmbeddedConfigurationJson): unknown =>
    section[key] ?? defaultEmbeddedConfigurationJson[key]
  const url = value('delegated_routing_url')
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new InvalidConnectorConfigurationError(
      'embedded.delegated_routing_url',
      `must be an http(s) URL, got ${JSON.stringify(url)}`,
    )
  }
  const listen = multiaddressList('embedded.listen_multiaddress', value('listen_multiaddress'))
  if (listen.length === 0) {
    throw new InvalidConnectorConfigurationError(
      'embedded.listen_multiaddress',
      'must name at least one address, such as "/ip4/0.0.0.0/tcp/4001"',
    )
  }
  return {
    listenMultiaddresses: listen,
    announceMultiaddresses: multiaddressList(
      'embedded.announce_multiaddress',
      value('announce_multiaddress'),
    ),
    bootstrap: multiaddressList('embedded.bootstrap', value('bootstrap')),
    storageMax: byteSize('embedded.storage_max', value('storage_max')),
    pinTimeout: durationInRange('embedded.pin_timeout', value('pin_timeout'), 1, 30 * day),
    unpinTimeout: durationInRange('embedded.unpin_timeout', value('unpin_timeout'), 1, 30 * day),
    repoGcTimeout: durationInRange('embedded.repogc_timeout', value('repogc_timeout'), 1, 30 * day),
    connectSwarmsDelay: durationInRange(
      'embedded.connect_swarms_delay',
      value('connect_swarms_delay'),
      0,
      day,
    ),
    dht: booleanValue('embedded.dht', value('dht')),
    delegatedRouting: booleanValue('embedded.delegated_routing', value('delegated_routing')),
    delegatedRoutingUrl: url,
  }
}

/** The section with every key at its default, for `pinraft init`. */
export function defaultEmbeddedConfiguration(): Required<EmbeddedConfigurationJson> {
  return structuredClone(defaultEmbeddedConfigurationJson) as Required<EmbeddedConfigurationJson>
}
