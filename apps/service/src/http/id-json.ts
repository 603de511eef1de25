import { CONSENSUS_RPC_PROTOCOL } from '@pinraft/consensus'

/** IPFS Cluster's `api.ID` in JSON, field for field. */
export interface IdJson {
  id: string
  addresses: string[]
  cluster_peers: string[]
  cluster_peers_addresses: string[]
  version: string
  commit: string
  rpc_protocol_version: string
  error: string
  /** 1.x's IPFSID: `id` is left out when the IPFS node could not be asked. */
  ipfs: { id?: string; addresses: string[]; error: string }
  peername: string
}

export function idJson(fields: Partial<IdJson> & { id: string }): IdJson {
  const { id, ...rest } = fields
  // `id` first, as Go writes it.
  return {
    id,
    addresses: [],
    cluster_peers: [],
    cluster_peers_addresses: [],
    version: '',
    commit: '',
    rpc_protocol_version: CONSENSUS_RPC_PROTOCOL,
    error: '',
    ipfs: { addresses: [], error: '' },
    peername: '',
    ...rest,
  }
}

/** Checks a remote peer's answer has the shape of an ID (it crosses the network). */
export function parseIdJson(value: unknown): IdJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('a peer ID answer must be a JSON object')
  }
  const record = value as Record<string, unknown>
  const text = (key: string): string =>
    typeof record[key] === 'string' ? (record[key] as string) : ''
  const list = (key: string): string[] =>
    Array.isArray(record[key])
      ? (record[key] as unknown[]).filter((entry): entry is string => typeof entry === 'string')
      : []
  if (text('id') === '') throw new TypeError('a peer ID answer must carry its "id"')
  return idJson({
    id: text('id'),
    addresses: list('addresses'),
    cluster_peers: list('cluster_peers'),
    cluster_peers_addresses: list('cluster_peers_addresses'),
    version: text('version'),
    commit: text('commit'),
    rpc_protocol_version: text('rpc_protocol_version'),
    error: text('error'),
    ipfs: parseIpfsId(record.ipfs),
    peername: text('peername'),
  })
}

function parseIpfsId(value: unknown): IdJson['ipfs'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { addresses: [], error: '' }
  }
  const record = value as Record<string, unknown>
  const addresses = Array.isArray(record.addresses)
    ? record.addresses.filter((entry): entry is string => typeof entry === 'string').slice(0, 256)
    : []
  const error = typeof record.error === 'string' ? record.error : ''
  return typeof record.id === 'string' && record.id !== ''
    ? { id: record.id, addresses, error }
    : { addresses, error }
}
