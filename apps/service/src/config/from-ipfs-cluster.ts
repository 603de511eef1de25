import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigurationError, ConfigurationMissingError } from '../errors.ts'
import { type Identity, identityFromJson } from './identity.ts'
import { ipfsClusterKeyNote, unknownKeys } from './ipfs-cluster-keys.ts'
import { defaultServiceJson, type ServiceJson, sectionDescriptions } from './sections.ts'
import { resolveServiceConfiguration } from './service-configuration.ts'

/** An IPFS Cluster 1.x folder turned into pinraft's files. */
export interface ConvertedFolder {
  readonly serviceJson: ServiceJson
  readonly identity: Identity
  /** From its `peerstore` file and `cluster.peer_addresses`. */
  readonly peers: readonly string[]
  /** `key: why`, for every key that was not carried over. */
  readonly dropped: readonly string[]
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

async function readJson(path: string, what: string): Promise<unknown | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigurationError(path, `cannot be read: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ConfigurationError(path, `is not valid JSON (${(error as Error).message}): ${what}`)
  }
}

function at(json: Json, path: readonly string[]): Json | undefined {
  let current: unknown = json
  for (const part of path) {
    if (!isObject(current)) return undefined
    current = current[part]
  }
  return isObject(current) ? current : undefined
}

/**
 * Reads an IPFS Cluster 1.x configuration folder (`service.json`, `identity.json` (or the older
 * `cluster.id`/`cluster.private_key`), `peerstore`) and converts it: the keys pinraft has are
 * carried over, renamed ones moved, the rest listed with why they were dropped. Its Raft state
 * (BoltDB) is not: `ipfs-cluster-service state export` and `pinraft state import` move pins.
 */
export async function convertIpfsClusterFolder(
  source: string,
  destination: string,
): Promise<ConvertedFolder> {
  const servicePath = join(source, 'service.json')
  const service = await readJson(servicePath, 'the IPFS Cluster service.json to convert')
  if (service === undefined)
    throw new ConfigurationMissingError(
      `no IPFS Cluster configuration at ${servicePath}: --from takes the folder of ipfs-cluster-service (by default ~/.ipfs-cluster)`,
    )
  if (!isObject(service)) throw new ConfigurationError(servicePath, 'must hold a JSON object')
  const cluster = at(service, ['cluster']) ?? {}
  const given = typeof cluster.secret === 'string' ? cluster.secret : ''
  // IPFS Cluster runs without a private network when its secret is empty; pinraft never does.
  const secret = given === '' ? randomBytes(32).toString('hex') : given
  // A 1.x peer pins on its Kubo (ipfs_connector.ipfshttp): it keeps that Kubo instead of
  // pinraft's embedded node.
  const ipfshttp = at(service, ['ipfs_connector', 'ipfshttp'])
  const nodeAddress =
    typeof ipfshttp?.node_multiaddress === 'string' ? ipfshttp.node_multiaddress : undefined
  const converted = defaultServiceJson(
    secret,
    ipfshttp === undefined ? undefined : (nodeAddress ?? '/ip4/127.0.0.1/tcp/5001'),
  ) as unknown as Record<string, Json>
  const moved = new Set<string>()

  for (const section of sectionDescriptions()) {
    const from = at(service, section.path)
    if (from === undefined) continue
    let into: Json = converted
    for (const part of section.path) {
      into[part] ??= {}
      into = into[part] as Json
    }
    for (const [key, value] of Object.entries(from))
      if (Object.hasOwn(section.keys, key) && !(section.name === 'cluster' && key === 'secret'))
        into[key] = value
  }
  const raft = (converted.consensus as Json).raft as Json
  // IPFS Cluster's raft folder holds BoltDB files pinraft cannot read: pinraft's own default.
  if ('data_folder' in raft) {
    delete raft.data_folder
    moved.add('consensus.raft.data_folder')
  }
  if (typeof cluster.leave_on_shutdown === 'boolean') {
    raft.leave_on_shutdown = cluster.leave_on_shutdown
    moved.add('cluster.leave_on_shutdown')
  }
  const convertedCluster = converted.cluster as Json
  if (
    typeof cluster.replication_factor === 'number' &&
    cluster.replication_factor_min === undefined &&
    cluster.replication_factor_max === undefined
  ) {
    convertedCluster.replication_factor_min = cluster.replication_factor
    convertedCluster.replication_factor_max = cluster.replication_factor
    moved.add('cluster.replication_factor')
  }

  const identityJson =
    (await readJson(join(source, 'identity.json'), 'the IPFS Cluster identity')) ??
    (typeof cluster.id === 'string'
      ? { id: cluster.id, private_key: cluster.private_key }
      : undefined)
  if (identityJson === undefined)
    throw new ConfigurationMissingError(
      `no identity in ${source}: IPFS Cluster keeps it in identity.json (or, before 0.11, in service.json's cluster.id and cluster.private_key)`,
    )
  const identity = identityFromJson(identityJson, join(source, 'identity.json'))
  moved.add('cluster.id').add('cluster.private_key')

  const peers: string[] = []
  if (Array.isArray(cluster.peer_addresses)) {
    peers.push(
      ...cluster.peer_addresses.filter((entry): entry is string => typeof entry === 'string'),
    )
    moved.add('cluster.peer_addresses')
  }
  const peerstore = await readFile(join(source, 'peerstore'), 'utf8').catch(() => '')
  for (const line of peerstore.split('\n')) {
    const address = line.trim()
    if (address !== '' && !address.startsWith('#') && !peers.includes(address)) peers.push(address)
  }

  const dropped = [
    ...(given === ''
      ? [
          'cluster.secret: was empty (no private network), which pinraft does not allow: a new secret was generated; every peer of the cluster needs the same one',
        ]
      : []),
    ...(moved.has('consensus.raft.data_folder')
      ? [
          "consensus.raft.data_folder: not carried over: IPFS Cluster's Raft state is BoltDB, which pinraft does not read; pinraft's is `raft` in the new folder",
        ]
      : []),
    ...unknownKeys(service)
      .filter((key) => !moved.has(key))
      .map((key) => `${key}: ${ipfsClusterKeyNote(key)}`),
  ]
  // The result must be a configuration pinraft starts with: check every value now.
  resolveServiceConfiguration(converted as Json, destination)
  return { serviceJson: converted as unknown as ServiceJson, identity, peers, dropped }
}
