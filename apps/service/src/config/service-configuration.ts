import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import {
  type DiskInformerConfiguration,
  type InformerConfiguration,
  type MonitorConfiguration,
  type PinQueueInformerConfiguration,
  parseBalancedConfiguration,
  parseDiskInformerConfiguration,
  parseMonitorConfiguration,
  parseNumpinInformerConfiguration,
  parsePinQueueInformerConfiguration,
  parseTagsInformerConfiguration,
  type TagsInformerConfiguration,
} from '@pinraft/allocation'
import {
  parseGoDuration,
  type RaftConfiguration,
  type RaftConfigurationJson,
  resolveRaftConfiguration,
} from '@pinraft/consensus'
import {
  type ConnectorConfiguration,
  resolveConnectorConfiguration,
} from '@pinraft/ipfs-connector/configuration'
import { parseStatelessConfiguration, type StatelessConfiguration } from '@pinraft/pintracker'
import {
  ConfigurationError,
  ConfigurationMissingError,
  UnknownConfigurationKeysError,
} from '../errors.ts'
import { applyEnvironmentOverrides } from './environment.ts'
import { unknownKeys, unknownKeysMessage } from './ipfs-cluster-keys.ts'
import { type TcpAddress, tcpAddressFromMultiaddr } from './listen-address.ts'
import { checkOldKeys } from './old-keys.ts'
import { peerstorePath, servicePath } from './paths.ts'
import { defaultRestApiSection, sectionDescriptions } from './sections.ts'

export interface ClusterConfiguration {
  readonly peername: string
  /** 64 hex characters: the libp2p private network key every peer shares. */
  readonly secret: string
  readonly listenMultiaddresses: readonly string[]
  /** Applied to pins submitted with 0 (IPFS Cluster's cluster-wide default); -1 = everywhere. */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  readonly dialPeerTimeout: number
  /** Milliseconds between the pin tracker's comparisons of the IPFS node with the pinset. */
  readonly stateSyncInterval: number
  /** Milliseconds between retries of the pins in error. */
  readonly pinRecoverInterval: number
  /** `monitor_ping_interval` (ms): how often metrics and a ping go to the other peers. */
  readonly monitorPingInterval: number
  /** `disable_repinning`: no re-allocation when a peer is lost or removed. */
  readonly disableRepinning: boolean
}

/** `informer.*`, `monitor.pubsubmon` and `allocator.balanced`, parsed. */
export interface AllocationConfiguration {
  readonly disk: DiskInformerConfiguration
  readonly numpin: InformerConfiguration
  readonly pinqueue: PinQueueInformerConfiguration
  readonly tags: TagsInformerConfiguration
  readonly monitor: MonitorConfiguration
  readonly allocateBy: readonly string[]
}

export interface RestApiConfiguration {
  readonly listenMultiaddress: string
  readonly listen: TcpAddress
  /** Absolute paths, or null for plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null
  readonly basicAuthCredentials: Readonly<Record<string, string>> | null
  readonly readHeaderTimeout: number
  readonly idleTimeout: number
  readonly maxHeaderBytes: number
  readonly headers: Readonly<Record<string, readonly string[]>>
  readonly cors: CorsConfiguration
}

/** IPFS Cluster 1.x's `cors_*` keys of `api.restapi`. */
export interface CorsConfiguration {
  readonly allowedOrigins: readonly string[]
  readonly allowedMethods: readonly string[]
  readonly allowedHeaders: readonly string[]
  readonly exposedHeaders: readonly string[]
  readonly allowCredentials: boolean
  /** Milliseconds; 0: no `Access-Control-Max-Age`. */
  readonly maxAge: number
}

/** `service.json` validated and resolved, environment overrides applied. */
export interface ServiceConfiguration {
  readonly folder: string
  readonly cluster: ClusterConfiguration
  readonly raft: RaftConfiguration
  readonly api: RestApiConfiguration
  /** `ipfs_connector`: the embedded IPFS node (the default) or Kubo's RPC API. */
  readonly ipfsConnector: ConnectorConfiguration
  /** `pin_tracker.stateless`: the queue and concurrency of this peer's pin tracker. */
  readonly pinTracker: StatelessConfiguration
  /** The informers, the peer monitor and the balanced allocator. */
  readonly allocation: AllocationConfiguration
  readonly peerstorePath: string
  /** The `PINRAFT_*` variables that overrode a key, for the startup log. */
  readonly environmentOverrides: readonly string[]
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function section(json: Json, path: readonly string[], name: string): Json {
  let current: unknown = json
  for (const part of path) {
    if (!isObject(current)) throw new ConfigurationError(name, 'must be a JSON object')
    current = current[part]
    if (current === undefined) return {}
  }
  if (!isObject(current)) throw new ConfigurationError(name, 'must be a JSON object')
  return current
}

function rejectUnknownKeys(values: Json, name: string, known: readonly string[]): void {
  for (const key of Object.keys(values)) {
    if (!known.includes(key)) {
      throw new ConfigurationError(
        `${name}.${key}`,
        `is not a known key; the keys of ${name} are ${[...known].sort().join(', ')}`,
      )
    }
  }
}

function string(values: Json, name: string, key: string, fallback: string): string {
  const value = values[key] ?? fallback
  if (typeof value !== 'string') {
    throw new ConfigurationError(`${name}.${key}`, `must be a string, got ${JSON.stringify(value)}`)
  }
  return value
}

function integer(
  values: Json,
  name: string,
  key: string,
  fallback: number,
  minimum: number,
  maximum: number,
): number {
  const value = values[key] ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw new ConfigurationError(
      `${name}.${key}`,
      `must be an integer from ${minimum} to ${maximum}, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

function duration(values: Json, name: string, key: string, fallback: string): number {
  const value = values[key] ?? fallback
  const milliseconds = typeof value === 'string' ? parseGoDuration(value) : null
  if (milliseconds === null) {
    throw new ConfigurationError(
      `${name}.${key}`,
      `must be a duration such as "5s", "200ms" or "2m0s", got ${JSON.stringify(value)}`,
    )
  }
  return milliseconds
}

const secretPattern = /^[0-9a-fA-F]{64}$/

function resolveCluster(values: Json): ClusterConfiguration {
  const name = 'cluster'
  rejectUnknownKeys(values, name, Object.keys(sectionDescriptions()[0]!.keys))
  const secret = string(values, name, 'secret', '')
  if (!secretPattern.test(secret)) {
    throw new ConfigurationError(
      'cluster.secret',
      'must be 64 hexadecimal characters (32 bytes), the same on every peer of the cluster; copy it from a running peer, or generate one for a new cluster with `od -vN 32 -An -tx1 /dev/urandom | tr -d " \\n"`',
    )
  }
  const listenValue = values.listen_multiaddress ?? ['/ip4/0.0.0.0/tcp/9096']
  const listen = typeof listenValue === 'string' ? [listenValue] : listenValue
  if (
    !Array.isArray(listen) ||
    listen.length === 0 ||
    listen.some((entry) => typeof entry !== 'string')
  ) {
    throw new ConfigurationError(
      'cluster.listen_multiaddress',
      `must be a multiaddress or a non-empty list of them, got ${JSON.stringify(listenValue)}`,
    )
  }
  for (const address of listen as string[]) {
    const parsed = tcpAddressFromMultiaddr(address)
    if ('error' in parsed) {
      throw new ConfigurationError(
        'cluster.listen_multiaddress',
        `${JSON.stringify(address)} ${parsed.error}`,
      )
    }
  }
  const replicationFactorMin = integer(
    values,
    name,
    'replication_factor_min',
    -1,
    -1,
    2_147_483_647,
  )
  const replicationFactorMax = integer(
    values,
    name,
    'replication_factor_max',
    -1,
    -1,
    2_147_483_647,
  )
  if ((replicationFactorMin === -1) !== (replicationFactorMax === -1)) {
    throw new ConfigurationError(
      'cluster.replication_factor_min',
      `and replication_factor_max must both be -1 (pin everywhere) or both positive, got ${replicationFactorMin} and ${replicationFactorMax}`,
    )
  }
  if (
    replicationFactorMin === 0 ||
    replicationFactorMax === 0 ||
    replicationFactorMin > replicationFactorMax
  ) {
    throw new ConfigurationError(
      'cluster.replication_factor_min',
      `must be at least 1 and not above replication_factor_max (or both -1), got ${replicationFactorMin} and ${replicationFactorMax}`,
    )
  }
  return {
    peername: string(values, name, 'peername', ''),
    secret: secret.toLowerCase(),
    listenMultiaddresses: listen as string[],
    replicationFactorMin,
    replicationFactorMax,
    dialPeerTimeout: duration(values, name, 'dial_peer_timeout', '3s'),
    stateSyncInterval: duration(values, name, 'state_sync_interval', '5m0s'),
    pinRecoverInterval: duration(values, name, 'pin_recover_interval', '12m0s'),
    monitorPingInterval: positiveDuration(values, name, 'monitor_ping_interval', '15s'),
    disableRepinning: boolean(values, name, 'disable_repinning', true),
  }
}

function positiveDuration(values: Json, name: string, key: string, fallback: string): number {
  const milliseconds = duration(values, name, key, fallback)
  if (milliseconds <= 0)
    throw new ConfigurationError(
      `${name}.${key}`,
      `must be longer than 0s, got ${JSON.stringify(values[key])}`,
    )
  return milliseconds
}

function boolean(values: Json, name: string, key: string, fallback: boolean): boolean {
  const value = values[key] ?? fallback
  if (typeof value !== 'boolean')
    throw new ConfigurationError(
      `${name}.${key}`,
      `must be true or false, got ${JSON.stringify(value)}`,
    )
  return value
}

function resolveAllocation(json: Json): AllocationConfiguration {
  const informer = section(json, ['informer'], 'informer')
  rejectUnknownKeys(informer, 'informer', ['disk', 'numpin', 'pinqueue', 'tags'])
  const monitor = section(json, ['monitor'], 'monitor')
  rejectUnknownKeys(monitor, 'monitor', ['pubsubmon'])
  const allocator = section(json, ['allocator'], 'allocator')
  rejectUnknownKeys(allocator, 'allocator', ['balanced'])
  return {
    disk: parseDiskInformerConfiguration(informer.disk),
    numpin: parseNumpinInformerConfiguration(informer.numpin),
    pinqueue: parsePinQueueInformerConfiguration(informer.pinqueue),
    tags: parseTagsInformerConfiguration(informer.tags),
    monitor: parseMonitorConfiguration(monitor.pubsubmon),
    allocateBy: parseBalancedConfiguration(allocator.balanced).allocateBy,
  }
}

function resolveRestApi(values: Json, folder: string): RestApiConfiguration {
  const name = 'api.restapi'
  rejectUnknownKeys(values, name, Object.keys(sectionDescriptions()[2]!.keys))
  const listenMultiaddress = string(
    values,
    name,
    'http_listen_multiaddress',
    '/ip4/127.0.0.1/tcp/9094',
  )
  const listen = tcpAddressFromMultiaddr(listenMultiaddress)
  if ('error' in listen) {
    throw new ConfigurationError(
      `${name}.http_listen_multiaddress`,
      `${JSON.stringify(listenMultiaddress)} ${listen.error}`,
    )
  }
  const certFile = string(values, name, 'ssl_cert_file', '')
  const keyFile = string(values, name, 'ssl_key_file', '')
  if ((certFile === '') !== (keyFile === '')) {
    throw new ConfigurationError(
      `${name}.ssl_cert_file`,
      'and ssl_key_file must be set together (both for HTTPS, neither for plain HTTP)',
    )
  }
  const inFolder = (path: string): string => (isAbsolute(path) ? path : join(folder, path))
  const credentials = values.basic_auth_credentials ?? null
  if (
    credentials !== null &&
    (!isObject(credentials) ||
      Object.keys(credentials).length === 0 ||
      Object.entries(credentials).some(
        ([user, password]) => user === '' || user.includes(':') || typeof password !== 'string',
      ))
  ) {
    throw new ConfigurationError(
      `${name}.basic_auth_credentials`,
      'must be null (no authentication) or an object of "user": "password" pairs (users non-empty, without ":")',
    )
  }
  const headers = values.headers ?? {}
  if (
    !isObject(headers) ||
    Object.values(headers).some(
      (list) => !Array.isArray(list) || list.some((entry) => typeof entry !== 'string'),
    )
  ) {
    throw new ConfigurationError(
      `${name}.headers`,
      'must be an object of "Header-Name": ["value", ...] lists',
    )
  }
  const stringList = (key: string, fallback: readonly string[]): string[] => {
    const value = values[key] ?? fallback
    if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string'))
      throw new ConfigurationError(
        `${name}.${key}`,
        `must be a list of strings, got ${JSON.stringify(value)}`,
      )
    return value as string[]
  }
  const allowCredentials = values.cors_allow_credentials ?? true
  if (typeof allowCredentials !== 'boolean')
    throw new ConfigurationError(`${name}.cors_allow_credentials`, 'must be true or false')
  const defaults = defaultRestApiSection()
  const cors: CorsConfiguration = {
    allowedOrigins: stringList('cors_allowed_origins', defaults.cors_allowed_origins),
    allowedMethods: stringList('cors_allowed_methods', defaults.cors_allowed_methods),
    allowedHeaders: stringList('cors_allowed_headers', defaults.cors_allowed_headers),
    exposedHeaders: stringList('cors_exposed_headers', defaults.cors_exposed_headers),
    allowCredentials,
    maxAge: duration(values, name, 'cors_max_age', '0s'),
  }
  return {
    cors,
    listenMultiaddress,
    listen,
    tls: certFile === '' ? null : { certFile: inFolder(certFile), keyFile: inFolder(keyFile) },
    basicAuthCredentials: credentials as Record<string, string> | null,
    readHeaderTimeout: duration(values, name, 'read_header_timeout', '5s'),
    idleTimeout: duration(values, name, 'idle_timeout', '2m0s'),
    maxHeaderBytes: integer(values, name, 'max_header_bytes', 4096, 1024, 1_048_576),
    headers: headers as Record<string, string[]>,
  }
}

/**
 * Validates a parsed `service.json` (environment overrides already applied) and resolves it.
 * Throws `OldConfigurationKeysError` for the removed `peers`/`bootstrap` keys, and
 * `ConfigurationError` (or consensus's `InvalidConfigurationError`) naming the key otherwise.
 */
export function resolveServiceConfiguration(
  json: Json,
  folder: string,
  environmentOverrides: readonly string[] = [],
): ServiceConfiguration {
  const peerstore = peerstorePath(folder)
  checkOldKeys(json, folder, peerstore)
  // Every unknown key at once (a whole IPFS Cluster service.json has many), before any value.
  const unknown = unknownKeys(json)
  if (unknown.length > 0)
    throw new UnknownConfigurationKeysError(
      unknownKeysMessage(servicePath(folder), unknown),
      unknown,
    )
  rejectUnknownKeys(json, 'service.json', [
    'cluster',
    'consensus',
    'api',
    'ipfs_connector',
    'pin_tracker',
    'informer',
    'monitor',
    'allocator',
  ])
  const pinTracker = section(json, ['pin_tracker'], 'pin_tracker')
  rejectUnknownKeys(pinTracker, 'pin_tracker', ['stateless'])
  const consensus = section(json, ['consensus'], 'consensus')
  rejectUnknownKeys(consensus, 'consensus', ['raft'])
  const api = section(json, ['api'], 'api')
  rejectUnknownKeys(api, 'api', ['restapi'])
  const raftJson = section(json, ['consensus', 'raft'], 'consensus.raft') as RaftConfigurationJson
  const dataFolder = raftJson.data_folder
  const raft = resolveRaftConfiguration(
    dataFolder !== undefined &&
      typeof dataFolder === 'string' &&
      dataFolder !== '' &&
      !isAbsolute(dataFolder)
      ? { ...raftJson, data_folder: join(folder, dataFolder) }
      : raftJson,
    { dataFolder: join(folder, 'raft') },
  )
  return {
    folder,
    cluster: resolveCluster(section(json, ['cluster'], 'cluster')),
    raft,
    api: resolveRestApi(section(json, ['api', 'restapi'], 'api.restapi'), folder),
    ipfsConnector: resolveConnectorConfiguration(json.ipfs_connector),
    pinTracker: parseStatelessConfiguration(pinTracker.stateless),
    allocation: resolveAllocation(json),
    peerstorePath: peerstore,
    environmentOverrides,
  }
}

/** Reads `<folder>/service.json`, applies `PINRAFT_<SECTION>_<KEY>` overrides and resolves it. */
export async function loadServiceConfiguration(
  folder: string,
  environment: NodeJS.ProcessEnv = process.env,
): Promise<ServiceConfiguration> {
  const path = servicePath(folder)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigurationMissingError(
        `no configuration at ${path}: run \`pinraft init\` first (or point --config / PINRAFT_PATH at an initialized folder)`,
      )
    }
    throw new ConfigurationError(path, `cannot be read: ${(error as Error).message}`, {
      cause: error,
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigurationError(
      path,
      `is not valid JSON (${(error as Error).message}); fix it or run \`pinraft init --force\``,
    )
  }
  if (!isObject(parsed)) throw new ConfigurationError(path, 'must hold a JSON object')
  const { json, applied } = applyEnvironmentOverrides(parsed, environment)
  return resolveServiceConfiguration(json, folder, applied)
}
