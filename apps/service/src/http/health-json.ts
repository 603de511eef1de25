import type { BandwidthByProtocol, ConnectGraph } from '@pinraft/cluster'

/** Go's encoding/json string: JSON with <, >, & and the line separators escaped, as 1.x writes. */
export function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** A Go map as encoding/json writes it: keys sorted (by bytes; peer IDs and protocols are ASCII). */
function goMap<V>(map: Readonly<Record<string, V>>, value: (entry: V) => string): string {
  const keys = Object.keys(map).sort()
  return `{${keys.map((key) => `${goString(key)}:${value(map[key] as V)}`).join(',')}}`
}

function peerList(peers: readonly string[]): string {
  return `[${peers.map(goString).join(',')}]`
}

/** 1.x's api.ConnectGraph JSON: its field names and order, maps with sorted keys. */
export function connectGraphToJson(graph: ConnectGraph): string {
  return [
    `{"cluster_id":${goString(graph.clusterId)}`,
    `"id_to_peername":${goMap(graph.idToPeername, goString)}`,
    `"ipfs_links":${goMap(graph.ipfsLinks, peerList)}`,
    `"cluster_links":${goMap(graph.clusterLinks, peerList)}`,
    `"cluster_trust_links":${goMap(graph.clusterTrustLinks, (trusted) => String(trusted))}`,
    `"cluster_to_ipfs":${goMap(graph.clusterToIpfs, goString)}}`,
  ].join(',')
}

/** A float64 as Go writes it: like JavaScript for every finite value the counters produce. */
function goFloat(value: number): string {
  return Number.isFinite(value) ? JSON.stringify(value) : '0'
}

/** 1.x's api.BandwidthByProtocol JSON: protocol → total_in, total_out, rate_in, rate_out. */
export function bandwidthToJson(bandwidth: BandwidthByProtocol): string {
  return goMap(
    bandwidth,
    (entry) =>
      `{"total_in":${Math.trunc(entry.totalIn)},"total_out":${Math.trunc(entry.totalOut)},"rate_in":${goFloat(entry.rateIn)},"rate_out":${goFloat(entry.rateOut)}}`,
  )
}
