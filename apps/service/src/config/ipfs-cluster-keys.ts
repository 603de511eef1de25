import { sectionDescriptions } from './sections.ts'

/**
 * What IPFS Cluster 1.x's `service.json` keys are called in pinraft, or why they have no
 * equivalent: the one message for an IPFS Cluster configuration names all of them at once.
 * Keys are dotted paths; a section's entry covers every key under it.
 */
const ipfsClusterKeys: Readonly<Record<string, string>> = {
  source: 'no equivalent: pinraft reads its configuration from service.json only',
  'cluster.id': 'is identity.json\'s "id"',
  'cluster.private_key': 'is identity.json\'s "private_key"',
  'cluster.leave_on_shutdown': 'is consensus.raft.leave_on_shutdown (or `daemon --leave`)',
  'cluster.replication_factor':
    'is cluster.replication_factor_min and cluster.replication_factor_max',
  'cluster.peer_addresses': 'goes into the peerstore file (or `pinraft init --peers`)',
  'cluster.peerstore_file': 'no equivalent: the peerstore file is always <config folder>/peerstore',
  'cluster.announce_multiaddress': "no equivalent: peers learn each other's addresses by identify",
  'cluster.no_announce_multiaddress': 'no equivalent',
  'cluster.enable_relay_hop': 'no equivalent: pinraft uses no libp2p relays',
  'cluster.connection_manager': "no equivalent: libp2p's defaults apply",
  'cluster.resource_manager': "no equivalent: libp2p's defaults apply",
  'cluster.pubsub': 'no equivalent: pinraft uses no pubsub',
  'cluster.peer_watch_interval':
    'no equivalent: the monitor forgets peers that leave consensus at its next ping',
  'cluster.mdns_interval': 'no equivalent: pinraft never uses mDNS',
  'cluster.pin_only_on_trusted_peers': 'no equivalent: in Raft every member is trusted',
  'cluster.pin_only_on_untrusted_peers': 'no equivalent: in Raft every member is trusted',
  'cluster.follower_mode': 'no equivalent: pinraft has no follower peers',
  'consensus.crdt': "no equivalent: pinraft implements IPFS Cluster's raft consensus only",
  'consensus.raft.datastore_namespace':
    'no equivalent: the Raft state is its own LevelDB store in consensus.raft.data_folder',
  'api.ipfsproxy': 'no equivalent: pinraft has no IPFS proxy API',
  'api.pinsvcapi': 'no equivalent: pinraft has no Pinning Service API',
  'api.restapi.read_timeout': 'no equivalent: api.restapi.read_header_timeout bounds the headers',
  'api.restapi.write_timeout': 'no equivalent',
  'api.restapi.http_log_file':
    "no equivalent: the access log is in the daemon's log at --log-level debug",
  'api.restapi.libp2p_listen_multiaddress': 'no equivalent: the REST API is served over HTTP only',
  'api.restapi.id': 'no equivalent: the REST API is served over HTTP only',
  'api.restapi.private_key': 'no equivalent: the REST API is served over HTTP only',
  'ipfs_connector.ipfshttp.informer_trigger_interval':
    'no equivalent: informers publish every cluster.monitor_ping_interval',
  state: 'no equivalent',
  observations: 'no equivalent: metrics are always served at GET /metrics; no tracing',
  datastore: 'no equivalent: the Raft state lives in consensus.raft.data_folder (LevelDB)',
}

/** What a key that pinraft does not read is, for the message. */
export function ipfsClusterKeyNote(key: string): string {
  const parts = key.split('.')
  for (let length = parts.length; length > 0; length--) {
    const note = ipfsClusterKeys[parts.slice(0, length).join('.')]
    if (note !== undefined) return note
  }
  return 'not a key of pinraft (a typo?)'
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The leaf keys under `value`, dotted from `prefix`. */
function leaves(value: unknown, prefix: string): string[] {
  if (!isObject(value) || Object.keys(value).length === 0) return [prefix]
  return Object.entries(value).flatMap(([key, child]) => leaves(child, `${prefix}.${key}`))
}

/**
 * Every key of `json` that pinraft does not read, as dotted paths: keys of a known section that
 * the section does not have, and the keys under sections pinraft does not have.
 */
export function unknownKeys(json: Json): string[] {
  const sections = sectionDescriptions()
  const unknown: string[] = []
  const walk = (value: Json, path: readonly string[]) => {
    const exact = sections.find((section) => section.path.join('.') === path.join('.'))
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key]
      const dotted = childPath.join('.')
      if (exact !== undefined) {
        if (!Object.hasOwn(exact.keys, key)) unknown.push(dotted)
        continue
      }
      const leadsToSection = sections.some(
        (section) =>
          section.path.length >= childPath.length &&
          childPath.every((part, index) => section.path[index] === part),
      )
      if (!leadsToSection) unknown.push(...(isObject(child) ? leaves(child, dotted) : [dotted]))
      else if (isObject(child)) walk(child, childPath)
    }
  }
  walk(json, [])
  return unknown
}

/**
 * One message for all the keys pinraft does not read, each with what pinraft calls it or why it
 * has none (keys with the same answer share a line).
 */
export function unknownKeysMessage(path: string, keys: readonly string[]): string {
  const byNote = new Map<string, string[]>()
  for (const key of keys) {
    const note = ipfsClusterKeyNote(key)
    byNote.set(note, [...(byNote.get(note) ?? []), key])
  }
  return [
    `${path} has ${keys.length} key${keys.length === 1 ? '' : 's'} that pinraft does not read (nothing was started):`,
    ...[...byNote].map(([note, group]) => `  - ${group.join(', ')}: ${note}`),
    'Remove them, or move them where pinraft has them as shown. An IPFS Cluster configuration folder can be converted as a whole with `pinraft --config <new folder> init --from <ipfs-cluster folder>`.',
  ].join('\n')
}
