import type { ConnectGraph, PeerId } from './api-types.ts'

/** A link between two cluster peers: `up` when either side reports the connection. */
export interface GraphLink {
  readonly from: string
  readonly to: string
  readonly up: boolean
}

/** A cluster peer placed on the picture, with its IPFS node beside it. */
export interface GraphNode {
  readonly id: string
  readonly name: string
  readonly x: number
  readonly y: number
  readonly ipfs: { readonly id: string; readonly x: number; readonly y: number } | null
}

export interface GraphPicture {
  readonly nodes: GraphNode[]
  readonly links: GraphLink[]
  /** Links between IPFS nodes (1.x's `ipfs_links`), by IPFS peer ID. */
  readonly ipfsLinks: { readonly from: string; readonly to: string }[]
}

/**
 * A ConnectGraph built from `GET /peers` for a peer that has no `/health/graph`: `/peers` says
 * which members this peer could ask, not who reaches whom, so a member that answered is linked
 * to the other members that answered, and one that could not be asked has no links (every link
 * to it shows as down).
 */
export function graphFromPeers(self: string, peers: readonly PeerId[]): ConnectGraph {
  const graph: ConnectGraph = {
    cluster_id: self,
    id_to_peername: {},
    ipfs_links: {},
    cluster_links: {},
    cluster_trust_links: {},
    cluster_to_ipfs: {},
  }
  const answered = new Set(peers.filter((peer) => peer.error === '').map((peer) => peer.id))
  for (const peer of peers) {
    graph.id_to_peername[peer.id] = peer.peername
    graph.cluster_trust_links[peer.id] = true
    if (peer.ipfs.id !== undefined && peer.ipfs.id !== '')
      graph.cluster_to_ipfs[peer.id] = peer.ipfs.id
    graph.cluster_links[peer.id] =
      peer.error === ''
        ? peer.cluster_peers.filter((member) => member !== peer.id && answered.has(member))
        : []
  }
  return graph
}

/**
 * Places the cluster's peers on a circle (the first at the top, clockwise, in ID order so the
 * picture is stable between refreshes) and each IPFS node just outside its peer. Every pair of
 * peers gets a link, marked down unless one of them reports the connection.
 */
export function layoutGraph(graph: ConnectGraph, size: number): GraphPicture {
  const ids = [
    ...new Set([...Object.keys(graph.id_to_peername), ...Object.keys(graph.cluster_links)]),
  ].sort()
  const center = size / 2
  const radius = ids.length <= 1 ? 0 : size * 0.3
  const outer = size * 0.44
  const nodes = ids.map((id, index): GraphNode => {
    const angle = -Math.PI / 2 + (2 * Math.PI * index) / Math.max(1, ids.length)
    const ipfsId = graph.cluster_to_ipfs[id]
    const ipfsRadius = ids.length <= 1 ? size * 0.25 : outer
    return {
      id,
      name: graph.id_to_peername[id] ?? '',
      x: center + radius * Math.cos(angle),
      y: center + radius * Math.sin(angle),
      ipfs:
        ipfsId === undefined
          ? null
          : {
              id: ipfsId,
              x: center + ipfsRadius * Math.cos(angle),
              y: center + ipfsRadius * Math.sin(angle),
            },
    }
  })
  const reports = (from: string, to: string) => (graph.cluster_links[from] ?? []).includes(to)
  const links: GraphLink[] = []
  for (let first = 0; first < ids.length; first += 1) {
    for (let second = first + 1; second < ids.length; second += 1) {
      const from = ids[first] as string
      const to = ids[second] as string
      links.push({ from, to, up: reports(from, to) || reports(to, from) })
    }
  }
  const ipfsLinks: { from: string; to: string }[] = []
  const seen = new Set<string>()
  for (const [from, targets] of Object.entries(graph.ipfs_links)) {
    for (const to of targets) {
      const key = [from, to].sort().join(' ')
      if (from === to || seen.has(key)) continue
      seen.add(key)
      ipfsLinks.push({ from, to })
    }
  }
  return { nodes, links, ipfsLinks }
}
