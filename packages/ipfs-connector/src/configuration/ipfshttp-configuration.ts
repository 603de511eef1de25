import { booleanValue, durationInRange, multiaddressValue, refuseUnknownKeys } from './values.ts'

/** `ipfs_connector.ipfshttp`: Kubo over its RPC API, IPFS Cluster 1.x's keys and defaults. */
export interface IpfsHttpConfiguration {
  /** Kubo's RPC API address (`/ip4/127.0.0.1/tcp/5001`, `/dns4/kubo/tcp/5001`). */
  readonly nodeMultiaddress: string
  readonly connectSwarmsDelay: number
  /** Timeout of every RPC call that is not a pin, an unpin or a GC. */
  readonly ipfsRequestTimeout: number
  /** A pin fails once Kubo reported no progress for this long. */
  readonly pinTimeout: number
  readonly unpinTimeout: number
  readonly repoGcTimeout: number
  /** Never unpin from Kubo (IPFS Cluster's `unpin_disable`). */
  readonly unpinDisable: boolean
}

export interface IpfsHttpConfigurationJson {
  node_multiaddress?: string
  connect_swarms_delay?: string
  ipfs_request_timeout?: string
  pin_timeout?: string
  unpin_timeout?: string
  repogc_timeout?: string
  unpin_disable?: boolean
}

export const defaultIpfsHttpConfigurationJson: Readonly<Required<IpfsHttpConfigurationJson>> = {
  node_multiaddress: '/ip4/127.0.0.1/tcp/5001',
  connect_swarms_delay: '30s',
  ipfs_request_timeout: '5m0s',
  pin_timeout: '2m0s',
  unpin_timeout: '3h0m0s',
  repogc_timeout: '24h0m0s',
  unpin_disable: false,
}

const day = 86_400_000

export function resolveIpfsHttpConfiguration(
  json: IpfsHttpConfigurationJson | undefined,
): IpfsHttpConfiguration {
  const section: Record<string, unknown> = { ...(json ?? {}) }
  refuseUnknownKeys('ipfshttp', section, Object.keys(defaultIpfsHttpConfigurationJson))
  const value = (key: keyof IpfsHttpConfigurationJson): unknown =>
    section[key] ?? defaultIpfsHttpConfigurationJson[key]
  return {
    nodeMultiaddress: multiaddressValue('ipfshttp.node_multiaddress', value('node_multiaddress')),
    connectSwarmsDelay: durationInRange(
      'ipfshttp.connect_swarms_delay',
      value('connect_swarms_delay'),
      0,
      day,
    ),
    ipfsRequestTimeout: durationInRange(
      'ipfshttp.ipfs_request_timeout',
      value('ipfs_request_timeout'),
      1,
      30 * day,
    ),
    pinTimeout: durationInRange('ipfshttp.pin_timeout', value('pin_timeout'), 1, 30 * day),
    unpinTimeout: durationInRange('ipfshttp.unpin_timeout', value('unpin_timeout'), 1, 30 * day),
    repoGcTimeout: durationInRange('ipfshttp.repogc_timeout', value('repogc_timeout'), 1, 30 * day),
    unpinDisable: booleanValue('ipfshttp.unpin_disable', value('unpin_disable')),
  }
}

export function defaultIpfsHttpConfiguration(): Required<IpfsHttpConfigurationJson> {
  return { ...defaultIpfsHttpConfigurationJson }
}
