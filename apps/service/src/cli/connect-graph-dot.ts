import type { ConnectGraphJson } from '../client/health-json.ts'

/**
 * Draws 1.x's ConnectGraph as a Graphviz DOT file, the way ipfs-cluster-ctl's `health graph`
 * does: a subgraph of cluster peers (this peer orange with a double border, trusted peers orange,
 * others dark orange, all `box3d`), a subgraph of IPFS nodes (turquoise cylinders; a red
 * "Errored" one for a cluster peer whose IPFS node is unknown), then edges among cluster peers,
 * from each cluster peer to its IPFS node (dotted to an errored one) and among IPFS nodes.
 * Nodes are numbered in the sorted order of their peer IDs, so the output is stable.
 */

type NodeKind = 'self' | 'trusted' | 'cluster' | 'ipfs' | 'ipfs-missing'

interface Node {
  readonly id: string
  readonly peer: string
  readonly kind: NodeKind
  readonly label: string
}

/** ctl's label of a peer: its first two characters, `*`, its last six. */
export function shortPeerId(peer: string): string {
  return `${peer.slice(0, 2)}*${peer.slice(-6)}`
}

/**
 * Graphviz's HTML-like label as ctl writes it; the peername is escaped (ctl does not), so a
 * name with `<` or `&` cannot break the file.
 */
function label(title: string, peer: string): string {
  return `< <B> ${escapeHtml(title)} </B> <BR/> <B> ${escapeHtml(peer)} </B> >`
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/** go-dot's vertex line: the attributes in its field order, empty ones left out. */
function vertexLine(node: Node): string {
  const style: Record<NodeKind, { color: string; shape: string; peripheries?: number }> = {
    self: { color: 'orange', shape: 'box3d', peripheries: 2 },
    trusted: { color: 'orange', shape: 'box3d' },
    cluster: { color: 'darkorange3', shape: 'box3d' },
    ipfs: { color: 'turquoise3', shape: 'cylinder' },
    'ipfs-missing': { color: 'firebrick1', shape: 'cylinder' },
  }
  const { color, shape, peripheries } = style[node.kind]
  const attributes = [
    `label=${node.label}`,
    `group=${quote(node.peer)}`,
    `color="${color}"`,
    'style="filled"',
    'colorscheme="x11"',
    'fontcolor="black"',
    'fontname="Arial"',
    `shape="${shape}"`,
    ...(peripheries === undefined ? [] : [`peripheries="${peripheries}"`]),
  ]
  return `${node.id} [${attributes.join(' ')} ]`
}

function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

function edge(from: Node, to: Node, style?: 'dotted'): string {
  return `${from.id} -> ${to.id}${style === undefined ? '' : ` [ style="${style}" ]`}`
}

function sortedKeys(map: Record<string, unknown> | null): string[] {
  return Object.keys(map ?? {}).sort()
}

/**
 * The DOT text of a graph. With `allIpfsPeers`, IPFS nodes outside the cluster that a cluster
 * IPFS node is connected to are drawn too (ctl's `--all-ipfs-peers`); otherwise only the
 * cluster's IPFS nodes and the links among them.
 */
export function connectGraphToDot(graph: ConnectGraphJson, allIpfsPeers = false): string {
  const ipfsLinks = graph.ipfs_links ?? {}
  const clusterLinks = graph.cluster_links ?? {}
  const clusterToIpfs = graph.cluster_to_ipfs ?? {}
  const trusted = graph.cluster_trust_links ?? {}
  const peernames = graph.id_to_peername ?? {}

  // ctl's preprocessing: which IPFS links to draw, and (with --all-ipfs-peers) every swarm peer.
  const ipfsEdges = new Map<string, string[]>()
  for (const [from, peers] of Object.entries(ipfsLinks)) {
    if (!ipfsEdges.has(from)) ipfsEdges.set(from, [])
    for (const peer of peers ?? []) {
      if (peer in ipfsLinks || allIpfsPeers) ipfsEdges.get(from)!.push(peer)
      if (allIpfsPeers && !ipfsEdges.has(peer)) ipfsEdges.set(peer, [])
    }
  }

  const clusterPeers = sortedKeys(clusterLinks)
  const clusterNodes = new Map<string, Node>()
  for (const peer of clusterPeers) {
    const kind: NodeKind =
      peer === graph.cluster_id ? 'self' : trusted[peer] === true ? 'trusted' : 'cluster'
    const prefix = kind === 'trusted' ? 'T' : 'C'
    clusterNodes.set(peer, {
      id: `${prefix}${clusterNodes.size}`,
      peer,
      kind,
      label: label(peernames[peer] ?? '', shortPeerId(peer)),
    })
  }
  const ipfsNodes = new Map<string, Node>()
  for (const peer of [...ipfsEdges.keys()].sort()) {
    ipfsNodes.set(peer, {
      id: `I${ipfsNodes.size}`,
      peer,
      kind: 'ipfs',
      label: label('IPFS', shortPeerId(peer)),
    })
  }
  // A cluster peer without a known IPFS node gets an "Errored" one, keyed by its own ID.
  for (const peer of clusterPeers) {
    if (!(peer in clusterToIpfs)) {
      ipfsNodes.set(peer, {
        id: `I${ipfsNodes.size}`,
        peer,
        kind: 'ipfs-missing',
        label: label('IPFS', 'Errored'),
      })
    }
  }

  const lines: string[] = ['digraph cluster {']
  lines.push('/* The nodes of the connectivity graph */', '/* The cluster-service peers */')
  lines.push('subgraph  {', 'rank="min"')
  for (const node of clusterNodes.values()) lines.push(vertexLine(node))
  lines.push('}', '')
  lines.push('/* The ipfs peers */', 'subgraph  {', 'rank="max"')
  for (const node of ipfsNodes.values()) lines.push(vertexLine(node))
  lines.push('}', '')

  lines.push(
    '/* Edges representing active connections in the cluster */',
    '/* The connections among cluster-service peers */',
  )
  for (const peer of clusterPeers) {
    const from = clusterNodes.get(peer)!
    for (const other of clusterLinks[peer] ?? []) {
      // ctl assumes every linked peer is a node; a link to a peer outside the graph is skipped.
      const to = clusterNodes.get(other)
      if (to !== undefined) lines.push(edge(from, to))
    }
  }
  lines.push('')

  lines.push('/* The connections between cluster peers and their ipfs daemons */')
  for (const peer of clusterPeers) {
    const from = clusterNodes.get(peer)!
    const ipfs = clusterToIpfs[peer]
    if (ipfs === undefined) {
      lines.push(edge(from, ipfsNodes.get(peer)!, 'dotted'))
      continue
    }
    const to = ipfsNodes.get(ipfs)
    if (to !== undefined) lines.push(edge(from, to))
  }
  lines.push('')

  lines.push('/* The swarm peer connections among ipfs daemons in the cluster */')
  for (const peer of [...ipfsEdges.keys()].sort()) {
    const from = ipfsNodes.get(peer)!
    for (const other of ipfsEdges.get(peer) ?? []) {
      const to = ipfsNodes.get(other)
      if (to !== undefined) lines.push(edge(from, to))
    }
  }
  lines.push('}')
  return `${lines.join('\n')}\n`
}
