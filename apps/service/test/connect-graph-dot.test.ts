import { describe, expect, it } from 'vitest'
import { connectGraphToDot, shortPeerId } from '../src/cli/connect-graph-dot.ts'
import type { ConnectGraphJson } from '../src/client/health-json.ts'
import { newPeerId } from './support/api-fixture.ts'

interface ParsedDot {
  header: string
  subgraphs: { rank: string; nodes: Map<string, Record<string, string>> }[]
  /** Edges in the order written, per section (comment before them). */
  sections: Map<string, string[]>
  last: string
}

/** Reads the DOT file the way a reader checks it: its subgraphs, nodes and edge sections. */
function parseDot(dot: string): ParsedDot {
  const lines = dot.split('\n')
  expect(lines.at(-1)).toBe('')
  const parsed: ParsedDot = {
    header: lines[0]!,
    subgraphs: [],
    sections: new Map(),
    last: lines.at(-2)!,
  }
  let subgraph: ParsedDot['subgraphs'][number] | null = null
  let section: string | null = null
  for (const line of lines.slice(1, -2)) {
    if (line === 'subgraph  {') {
      subgraph = { rank: '', nodes: new Map() }
      parsed.subgraphs.push(subgraph)
      continue
    }
    if (subgraph !== null) {
      if (line === '}') {
        subgraph = null
        continue
      }
      const rank = /^rank="(\w+)"$/.exec(line)
      if (rank !== null) {
        subgraph.rank = rank[1]!
        continue
      }
      const node = /^(\w+) \[(.*) \]$/.exec(line)
      expect(node, line).not.toBeNull()
      const attributes: Record<string, string> = {}
      for (const match of node![2]!.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|< .*? >)(?= |$)/g))
        attributes[match[1]!] = match[2]!.startsWith('"') ? match[2]!.slice(1, -1) : match[2]!
      subgraph.nodes.set(node![1]!, attributes)
      continue
    }
    const comment = /^\/\* (.*) \*\/$/.exec(line)
    if (comment !== null) {
      section = comment[1]!
      parsed.sections.set(section, [])
      continue
    }
    if (line === '') continue
    expect(line).toMatch(/^\w+ -> \w+( \[ style="dotted" \])?$/)
    parsed.sections.get(section!)!.push(line)
  }
  return parsed
}

async function peers(count: number): Promise<string[]> {
  return (await Promise.all(Array.from({ length: count }, () => newPeerId()))).sort()
}

describe('health graph DOT, as ipfs-cluster-ctl draws it', () => {
  it('draws cluster peers, their IPFS nodes and every link, numbered in sorted order', async () => {
    const [a, b, c] = (await peers(3)) as [string, string, string]
    const [x, y, z] = (await peers(3)) as [string, string, string]
    const graph: ConnectGraphJson = {
      cluster_id: b,
      id_to_peername: { [a]: 'alpha', [b]: 'beta', [c]: 'gamma' },
      cluster_links: { [a]: [b, c], [b]: [a, c], [c]: [a, b] },
      cluster_trust_links: { [a]: true, [b]: true, [c]: false },
      ipfs_links: { [x]: [y, z], [y]: [x, z], [z]: [y, x] },
      cluster_to_ipfs: { [a]: y, [b]: x, [c]: z },
    }
    const dot = parseDot(connectGraphToDot(graph))
    expect(dot.header).toBe('digraph cluster {')
    expect(dot.last).toBe('}')
    expect(dot.subgraphs.map((subgraph) => subgraph.rank)).toEqual(['min', 'max'])
    const [cluster, ipfs] = dot.subgraphs as [ParsedDot['subgraphs'][0], ParsedDot['subgraphs'][0]]
    // a is trusted (T0), b is this peer (C1, orange, double border), c is not trusted (C2).
    expect([...cluster.nodes.keys()]).toEqual(['T0', 'C1', 'C2'])
    expect(cluster.nodes.get('T0')).toMatchObject({ group: a, color: 'orange', shape: 'box3d' })
    expect(cluster.nodes.get('T0')!.peripheries).toBeUndefined()
    expect(cluster.nodes.get('C1')).toMatchObject({ group: b, color: 'orange', peripheries: '2' })
    expect(cluster.nodes.get('C2')).toMatchObject({ group: c, color: 'darkorange3' })
    expect(cluster.nodes.get('C1')!.label).toBe(
      `< <B> beta </B> <BR/> <B> ${shortPeerId(b)} </B> >`,
    )
    for (const node of [...cluster.nodes.values(), ...ipfs.nodes.values()])
      expect(node).toMatchObject({
        style: 'filled',
        colorscheme: 'x11',
        fontcolor: 'black',
        fontname: 'Arial',
      })
    expect([...ipfs.nodes.keys()]).toEqual(['I0', 'I1', 'I2'])
    expect([...ipfs.nodes.values()].map((node) => node.group)).toEqual([x, y, z])
    expect(ipfs.nodes.get('I0')).toMatchObject({ color: 'turquoise3', shape: 'cylinder' })
    expect(ipfs.nodes.get('I0')!.label).toBe(`< <B> IPFS </B> <BR/> <B> ${shortPeerId(x)} </B> >`)

    expect(dot.sections.get('The connections among cluster-service peers')).toEqual([
      'T0 -> C1',
      'T0 -> C2',
      'C1 -> T0',
      'C1 -> C2',
      'C2 -> T0',
      'C2 -> C1',
    ])
    expect(
      dot.sections.get('The connections between cluster peers and their ipfs daemons'),
    ).toEqual(['T0 -> I1', 'C1 -> I0', 'C2 -> I2'])
    // In the order each node listed its peers, as ctl writes them.
    expect(
      dot.sections.get('The swarm peer connections among ipfs daemons in the cluster'),
    ).toEqual(['I0 -> I1', 'I0 -> I2', 'I1 -> I0', 'I1 -> I2', 'I2 -> I1', 'I2 -> I0'])
  })

  it('draws an "Errored" IPFS node, linked dotted, for a peer whose IPFS node is unknown', async () => {
    const [a, b] = (await peers(2)) as [string, string]
    const [x] = (await peers(1)) as [string]
    const graph: ConnectGraphJson = {
      cluster_id: a,
      id_to_peername: { [a]: 'alpha' },
      cluster_links: { [a]: [b], [b]: [] },
      cluster_trust_links: { [a]: true, [b]: true },
      ipfs_links: { [x]: [] },
      cluster_to_ipfs: { [a]: x },
    }
    const dot = parseDot(connectGraphToDot(graph))
    const ipfs = dot.subgraphs[1]!
    expect([...ipfs.nodes.keys()]).toEqual(['I0', 'I1'])
    expect(ipfs.nodes.get('I1')).toMatchObject({ group: b, color: 'firebrick1', shape: 'cylinder' })
    expect(ipfs.nodes.get('I1')!.label).toBe('< <B> IPFS </B> <BR/> <B> Errored </B> >')
    // A peer with no peername has an empty title, as ctl.
    expect(dot.subgraphs[0]!.nodes.get('T1')!.label).toBe(
      `< <B>  </B> <BR/> <B> ${shortPeerId(b)} </B> >`,
    )
    expect(
      dot.sections.get('The connections between cluster peers and their ipfs daemons'),
    ).toEqual(['C0 -> I0', 'T1 -> I1 [ style="dotted" ]'])
  })

  it('draws IPFS peers outside the cluster only with --all-ipfs-peers', async () => {
    const [a] = (await peers(1)) as [string]
    const [x, outside] = (await peers(2)) as [string, string]
    const graph: ConnectGraphJson = {
      cluster_id: a,
      id_to_peername: {},
      cluster_links: { [a]: [] },
      cluster_trust_links: { [a]: true },
      ipfs_links: { [x]: [outside] },
      cluster_to_ipfs: { [a]: x },
    }
    const swarm = 'The swarm peer connections among ipfs daemons in the cluster'
    const own = parseDot(connectGraphToDot(graph))
    expect([...own.subgraphs[1]!.nodes.values()].map((node) => node.group)).toEqual([x])
    expect(own.sections.get(swarm)).toEqual([])
    const all = parseDot(connectGraphToDot(graph, true))
    const groups = [...all.subgraphs[1]!.nodes.entries()].map(([id, node]) => [id, node.group])
    expect(groups).toEqual([x, outside].sort().map((peer, index) => [`I${index}`, peer]))
    const [from, to] = [x, outside].map((peer) => groups.find(([, group]) => group === peer)![0])
    expect(all.sections.get(swarm)).toEqual([`${from} -> ${to}`])
  })

  it('escapes a peername that would break the HTML label, and reads null maps as empty', async () => {
    const [a] = (await peers(1)) as [string]
    const dot = connectGraphToDot({
      cluster_id: a,
      id_to_peername: { [a]: 'a<b>&c' },
      cluster_links: { [a]: null },
      cluster_trust_links: null,
      ipfs_links: null,
      cluster_to_ipfs: null,
    })
    expect(dot).toContain('< <B> a&lt;b&gt;&amp;c </B> <BR/>')
    const parsed = parseDot(dot)
    expect([...parsed.subgraphs[0]!.nodes.keys()]).toEqual(['C0'])
    expect([...parsed.subgraphs[1]!.nodes.keys()]).toEqual(['I0'])
  })
})
