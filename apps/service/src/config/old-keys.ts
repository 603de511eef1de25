import { OldConfigurationKeysError } from '../errors.ts'

function addressList(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value]
  if (Array.isArray(value))
    return value.filter((entry): entry is string => typeof entry === 'string')
  return []
}

/**
 * Refuses a configuration with the `peers` or `bootstrap` keys (in `cluster`, or at the top
 * level), which IPFS Cluster removed when consensus became its own component: the service no
 * longer writes its configuration, so those keys would silently go stale. The message lists the
 * addresses found so they can be moved as they are.
 */
export function checkOldKeys(
  json: Record<string, unknown>,
  folder: string,
  peerstore: string,
): void {
  const found: { key: string; addresses: string[] }[] = []
  const cluster = json.cluster
  for (const [holder, prefix] of [
    [cluster, 'cluster.'],
    [json, ''],
  ] as const) {
    if (typeof holder !== 'object' || holder === null || Array.isArray(holder)) continue
    for (const key of ['peers', 'bootstrap']) {
      if (key in holder) {
        found.push({
          key: `${prefix}${key}`,
          addresses: addressList((holder as Record<string, unknown>)[key]),
        })
      }
    }
  }
  if (found.length === 0) return
  const keys = found.map((entry) => entry.key)
  const addresses = [...new Set(found.flatMap((entry) => entry.addresses))]
  const lines = [
    '',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
    `${folder}/service.json has the key(s) ${keys.join(', ')}, which are no longer read.`,
    '',
    'What changed: consensus is now its own component. The peerset lives in the Raft state,',
    'peer addresses live in the peerstore file, and the service never edits its configuration',
    '(it used to rewrite "peers" and "bootstrap", which went stale and needed write access to',
    'the file holding the private key).',
    '',
    'To move on:',
    `  1. Put the peer multiaddresses into ${peerstore}, one per line${addresses.length > 0 ? ':' : '.'}`,
    ...addresses.map((address) => `       ${address}`),
    `  2. Delete ${keys.map((key) => `"${key}"`).join(' and ')} from service.json.`,
    '  3. To join a running cluster, start this peer with',
    '       pinraft daemon --bootstrap <multiaddr>[,<multiaddr>...]',
    "     (it backs up and cleans this peer's Raft state, then asks a running peer to add it).",
    '     A peer that was already a member just starts with `pinraft daemon`: its Raft state',
    '     remembers the peerset. A brand new cluster may list its peer IDs in',
    '     consensus.raft.init_peerset.',
    '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  ]
  throw new OldConfigurationKeysError(lines.join('\n'), keys)
}
