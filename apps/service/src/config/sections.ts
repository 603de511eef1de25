import { hostname } from 'node:os'
import { defaultRaftConfiguration } from '@pinraft/consensus'
import {
  type ConnectorConfigurationJson,
  defaultEmbeddedConfiguration,
  defaultIpfsHttpConfiguration,
} from '@pinraft/ipfs-connector/configuration'
import {
  defaultStatelessConfiguration,
  type StatelessConfigurationJson,
  statelessConfigurationToJson,
} from '@pinraft/pintracker'

/**
 * The sections of `service.json` and their keys, in IPFS Cluster's shape: `cluster`,
 * `consensus.raft`, `api.restapi`, `ipfs_connector`, `pin_tracker.stateless`, `informer.*`,
 * `monitor.pubsubmon`, `allocator.balanced`. Every key a section accepts has a default here, which also
 * gives its type to environment overrides.
 */

export interface ClusterSectionJson {
  peername: string
  secret: string
  listen_multiaddress: string | string[]
  replication_factor_min: number
  replication_factor_max: number
  dial_peer_timeout: string
  /** How often the pin tracker compares the IPFS node with the pinset (1.x's default 5m). */
  state_sync_interval: string
  /** How often pins in error are retried (1.x's default 12m). */
  pin_recover_interval: string
  /** How often this peer publishes its metrics and a ping to the others (1.x's default 15s). */
  monitor_ping_interval: string
  /** No re-allocation when a peer is lost or removed (1.x's default: true). */
  disable_repinning: boolean
}

export interface RestApiSectionJson {
  http_listen_multiaddress: string
  ssl_cert_file: string
  ssl_key_file: string
  basic_auth_credentials: Record<string, string> | null
  read_header_timeout: string
  idle_timeout: string
  max_header_bytes: number
  headers: Record<string, string[]>
  cors_allowed_origins: string[]
  cors_allowed_methods: string[]
  cors_allowed_headers: string[]
  cors_exposed_headers: string[]
  cors_allow_credentials: boolean
  cors_max_age: string
}

/** IPFS Cluster listens on every interface for its peers; the API stays on loopback. */
export const DEFAULT_CLUSTER_LISTEN = '/ip4/0.0.0.0/tcp/9096'
export const DEFAULT_API_LISTEN = '/ip4/127.0.0.1/tcp/9094'

export function defaultClusterSection(secret: string): ClusterSectionJson {
  return {
    peername: hostname(),
    secret,
    listen_multiaddress: [DEFAULT_CLUSTER_LISTEN],
    replication_factor_min: -1,
    replication_factor_max: -1,
    dial_peer_timeout: '3s',
    state_sync_interval: '5m0s',
    pin_recover_interval: '12m0s',
    monitor_ping_interval: '15s',
    disable_repinning: true,
  }
}

/** `informer`: 1.x's four informers, each with its `metric_ttl`, at 1.x's defaults. */
export interface InformerSectionJson {
  disk: { metric_ttl: string; metric_type: string }
  numpin: { metric_ttl: string }
  pinqueue: { metric_ttl: string; weight_bucket_size: number }
  tags: { metric_ttl: string; tags: Record<string, string> }
}

export function defaultInformerSection(): InformerSectionJson {
  return {
    disk: { metric_ttl: '30s', metric_type: 'freespace' },
    numpin: { metric_ttl: '10s' },
    pinqueue: { metric_ttl: '30s', weight_bucket_size: 100_000 },
    tags: { metric_ttl: '30s', tags: { group: 'default' } },
  }
}

/**
 * `monitor.pubsubmon`: 1.x's `check_interval` (15s). `failure_threshold` is the phi accrual
 * detector's threshold (3), which 1.x accepts and has ignored since 0.13.
 */
export function defaultMonitorSection(): { check_interval: string; failure_threshold: number } {
  return { check_interval: '15s', failure_threshold: 3 }
}

/** `allocator.balanced`: 1.x's `allocate_by`. */
export function defaultBalancedSection(): { allocate_by: string[] } {
  return { allocate_by: ['tag:group', 'freespace'] }
}

export function defaultRestApiSection(): RestApiSectionJson {
  return {
    http_listen_multiaddress: DEFAULT_API_LISTEN,
    ssl_cert_file: '',
    ssl_key_file: '',
    basic_auth_credentials: null,
    read_header_timeout: '5s',
    idle_timeout: '2m0s',
    max_header_bytes: 4096,
    headers: {},
    // IPFS Cluster 1.x's CORS defaults (api/rest/config.go).
    cors_allowed_origins: ['*'],
    cors_allowed_methods: ['GET'],
    cors_allowed_headers: [],
    cors_exposed_headers: [
      'Content-Type',
      'X-Stream-Output',
      'X-Chunked-Output',
      'X-Content-Length',
    ],
    cors_allow_credentials: true,
    cors_max_age: '0s',
  }
}

export interface ServiceJson {
  cluster: ClusterSectionJson
  consensus: { raft: ReturnType<typeof defaultRaftConfiguration> & { data_folder?: string } }
  api: { restapi: RestApiSectionJson }
  ipfs_connector: ConnectorConfigurationJson
  pin_tracker: { stateless: StatelessConfigurationJson }
  informer: InformerSectionJson
  monitor: { pubsubmon: ReturnType<typeof defaultMonitorSection> }
  allocator: { balanced: ReturnType<typeof defaultBalancedSection> }
}

/** `pin_tracker.stateless` as 1.x writes it, every key at its default. */
export function defaultStatelessSection(): StatelessConfigurationJson {
  return {
    max_pin_queue_size: defaultStatelessConfiguration.maxPinQueueSize,
    ...statelessConfigurationToJson(defaultStatelessConfiguration),
  }
}

/**
 * The `ipfs_connector` section `pinraft init` writes: the embedded node, or Kubo's RPC API at
 * `ipfsApi` (`--ipfs-api`).
 */
export function defaultIpfsConnectorSection(ipfsApi?: string): ConnectorConfigurationJson {
  if (ipfsApi === undefined) return { embedded: defaultEmbeddedConfiguration() }
  return { ipfshttp: { ...defaultIpfsHttpConfiguration(), node_multiaddress: ipfsApi } }
}

/** `service.json` as `pinraft init` writes it: every section with every key at its default. */
export function defaultServiceJson(secret: string, ipfsApi?: string): ServiceJson {
  return {
    cluster: defaultClusterSection(secret),
    consensus: { raft: defaultRaftConfiguration() },
    api: { restapi: defaultRestApiSection() },
    ipfs_connector: defaultIpfsConnectorSection(ipfsApi),
    pin_tracker: { stateless: defaultStatelessSection() },
    informer: defaultInformerSection(),
    monitor: { pubsubmon: defaultMonitorSection() },
    allocator: { balanced: defaultBalancedSection() },
  }
}

/** Kind of value a key holds, for environment overrides. */
export type KeyKind = 'string' | 'number' | 'boolean' | 'list' | 'object'

export interface SectionDescription {
  /** Dotted name, as written in messages (`consensus.raft`). */
  readonly name: string
  readonly path: readonly string[]
  /** `PINRAFT_CONSENSUS_RAFT_` */
  readonly environmentPrefix: string
  readonly keys: Readonly<Record<string, KeyKind>>
}

function kindOf(value: unknown): KeyKind {
  if (typeof value === 'string') return 'string'
  if (typeof value === 'number') return 'number'
  if (typeof value === 'boolean') return 'boolean'
  if (Array.isArray(value)) return 'list'
  return 'object'
}

function keysOf(defaults: object, extra: Record<string, KeyKind> = {}): Record<string, KeyKind> {
  const keys: Record<string, KeyKind> = { ...extra }
  for (const [key, value] of Object.entries(defaults)) keys[key] = kindOf(value)
  return keys
}

export function sectionDescriptions(): SectionDescription[] {
  return [
    {
      name: 'cluster',
      path: ['cluster'],
      environmentPrefix: 'PINRAFT_CLUSTER_',
      keys: keysOf(defaultClusterSection(''), { listen_multiaddress: 'list' }),
    },
    {
      name: 'consensus.raft',
      path: ['consensus', 'raft'],
      environmentPrefix: 'PINRAFT_CONSENSUS_RAFT_',
      keys: keysOf(defaultRaftConfiguration(), { data_folder: 'string' }),
    },
    {
      name: 'api.restapi',
      path: ['api', 'restapi'],
      environmentPrefix: 'PINRAFT_API_RESTAPI_',
      keys: keysOf(defaultRestApiSection(), { basic_auth_credentials: 'object' }),
    },
    {
      name: 'ipfs_connector.embedded',
      path: ['ipfs_connector', 'embedded'],
      environmentPrefix: 'PINRAFT_IPFS_CONNECTOR_EMBEDDED_',
      keys: keysOf(defaultEmbeddedConfiguration(), {
        listen_multiaddress: 'list',
        storage_max: 'string',
      }),
    },
    {
      name: 'ipfs_connector.ipfshttp',
      path: ['ipfs_connector', 'ipfshttp'],
      environmentPrefix: 'PINRAFT_IPFS_CONNECTOR_IPFSHTTP_',
      keys: keysOf(defaultIpfsHttpConfiguration()),
    },
    {
      name: 'pin_tracker.stateless',
      path: ['pin_tracker', 'stateless'],
      environmentPrefix: 'PINRAFT_PIN_TRACKER_STATELESS_',
      keys: keysOf(defaultStatelessSection()),
    },
    ...Object.entries(defaultInformerSection()).map(
      ([informer, defaults]): SectionDescription => ({
        name: `informer.${informer}`,
        path: ['informer', informer],
        environmentPrefix: `PINRAFT_INFORMER_${informer.toUpperCase()}_`,
        keys: keysOf(defaults),
      }),
    ),
    {
      name: 'monitor.pubsubmon',
      path: ['monitor', 'pubsubmon'],
      environmentPrefix: 'PINRAFT_MONITOR_PUBSUBMON_',
      keys: keysOf(defaultMonitorSection()),
    },
    {
      name: 'allocator.balanced',
      path: ['allocator', 'balanced'],
      environmentPrefix: 'PINRAFT_ALLOCATOR_BALANCED_',
      keys: keysOf(defaultBalancedSection()),
    },
  ]
}
