import type { ConnectGraph, PeerId } from '../api-types.ts'
import { graphFromPeers, layoutGraph } from '../cluster-graph.ts'
import { shortId } from '../format.ts'
import type { Polled } from '../polling.ts'

const size = 360

function nonEmpty(names: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(names).filter(([, name]) => name !== ''))
}

/**
 * The cluster as a picture (1.x's `health/graph`): peers on a circle, each IPFS node beside its
 * peer, links between peers solid when up and dashed red when a peer cannot reach the other.
 */
export function GraphPanel(props: {
  self: string | undefined
  leader: string | undefined
  graph: Polled<ConnectGraph>
  peers: Polled<PeerId[]>
  /** Names seen earlier, for a peer that cannot be asked now. */
  names: ReadonlyMap<string, string>
}) {
  const fromPeers = props.graph.value === undefined
  const graph =
    props.graph.value ??
    (props.peers.value === undefined
      ? undefined
      : graphFromPeers(props.self ?? '', props.peers.value))
  const picture =
    graph === undefined
      ? undefined
      : layoutGraph(
          {
            ...graph,
            id_to_peername: {
              ...Object.fromEntries(props.names),
              ...nonEmpty(graph.id_to_peername),
            },
          },
          size,
        )
  const position = new Map(picture?.nodes.map((node) => [node.id, node]) ?? [])
  const ipfsPosition = new Map(
    picture?.nodes.flatMap((node) => (node.ipfs === null ? [] : [[node.ipfs.id, node.ipfs]])) ?? [],
  )
  const down = picture?.links.filter((link) => !link.up).length ?? 0
  // The picture's own extent (peers, IPFS nodes, labels) plus a margin, so no space is wasted.
  const points = picture?.nodes.flatMap((node) => [
    { x: node.x, y: node.y + 40 },
    { x: node.x, y: node.y - 24 },
    ...(node.ipfs === null ? [] : [node.ipfs]),
  ]) ?? [{ x: 0, y: 0 }]
  const margin = 24
  const left = Math.min(...points.map((point) => point.x)) - margin - 30
  const top = Math.min(...points.map((point) => point.y)) - margin
  const right = Math.max(...points.map((point) => point.x)) + margin + 30
  const bottom = Math.max(...points.map((point) => point.y)) + margin
  return (
    <section id="graph" aria-labelledby="graph-title">
      <h2 id="graph-title">Picture of the cluster</h2>
      {fromPeers ? (
        <p class="note">
          GET /health/graph is not available on this peer: links are drawn from what each peer
          answers to /peers.
        </p>
      ) : null}
      {picture === undefined ? (
        <p class="note">loading…</p>
      ) : (
        <svg
          class="graph"
          viewBox={`${left} ${top} ${right - left} ${bottom - top}`}
          role="img"
          aria-label={`${picture.nodes.length} peers, ${picture.links.length - down} links up, ${down} unreachable`}
        >
          {picture.ipfsLinks.map((link) => {
            const from = ipfsPosition.get(link.from)
            const to = ipfsPosition.get(link.to)
            if (from === undefined || to === undefined) return null
            return (
              <line
                key={`${link.from}-${link.to}`}
                class="ipfs-link"
                x1={from.x}
                y1={from.y}
                x2={to.x}
                y2={to.y}
              />
            )
          })}
          {picture.links.map((link) => {
            const from = position.get(link.from)
            const to = position.get(link.to)
            if (from === undefined || to === undefined) return null
            const label = `${from.name || shortId(from.id)} ↔ ${to.name || shortId(to.id)}: ${link.up ? 'connected' : 'unreachable'}`
            return (
              <g
                key={`${link.from}-${link.to}`}
                class={link.up ? 'link up' : 'link down'}
                data-up={String(link.up)}
              >
                <title>{label}</title>
                <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} />
                {link.up ? null : (
                  <text x={(from.x + to.x) / 2} y={(from.y + to.y) / 2 + 5} text-anchor="middle">
                    ✕
                  </text>
                )}
              </g>
            )
          })}
          {picture.nodes.map((node) => (
            <g key={node.id} class={`node${node.id === props.leader ? ' leader' : ''}`}>
              <title>{`${node.name} ${node.id}${node.ipfs === null ? '' : `\nIPFS ${node.ipfs.id}`}`}</title>
              {node.ipfs === null ? null : (
                <>
                  <line
                    class="ipfs-tie"
                    x1={node.x}
                    y1={node.y}
                    x2={node.ipfs.x}
                    y2={node.ipfs.y}
                  />
                  <rect
                    class="ipfs"
                    x={node.ipfs.x - 7}
                    y={node.ipfs.y - 7}
                    width="14"
                    height="14"
                    rx="3"
                  />
                </>
              )}
              <circle cx={node.x} cy={node.y} r="20" />
              <text x={node.x} y={node.y + 4} text-anchor="middle" class="initial">
                {(node.name || node.id).slice(0, 1).toUpperCase()}
              </text>
              <text x={node.x} y={node.y + 36} text-anchor="middle" class="label">
                {node.name || shortId(node.id)}
                {node.id === props.leader ? ' ★' : ''}
              </text>
            </g>
          ))}
        </svg>
      )}
      <p class="legend">
        <span class="swatch peer" /> cluster peer (★ leader) <span class="swatch ipfs" /> its IPFS
        node <span class="swatch up" /> connected <span class="swatch down" /> unreachable
      </p>
    </section>
  )
}
