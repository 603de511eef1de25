import { describe, expect, it } from 'vitest'
import type { ConnectGraph, PeerId } from '../src/api-types.ts'
import { graphFromPeers, layoutGraph } from '../src/cluster-graph.ts'

function peer(id: string, name: string, members: string[], error = ''): PeerId {
  return {
    id,
    addresses: [],
    cluster_peers: members,
    cluster_peers_addresses: [],
    version: '',
    commit: '',
    rpc_protocol_version: '',
    error,
    ipfs: error === '' ? { id: `ipfs-${id}`, addresses: [], error: '' } : { addresses: [], error },
    peername: name,
  }
}

// 1.x's ConnectGraph for three peers where c cannot reach a (and a not c).
const graph: ConnectGraph = {
  cluster_id: 'a',
  id_to_peername: { a: 'alpha', b: 'beta', c: 'gamma' },
  ipfs_links: { 'ipfs-a': ['ipfs-b', 'ipfs-c'], 'ipfs-b': ['ipfs-a'], 'ipfs-c': ['ipfs-a'] },
  cluster_links: { a: ['b'], b: ['a', 'c'], c: ['b'] },
  cluster_trust_links: { a: true, b: true, c: true },
  cluster_to_ipfs: { a: 'ipfs-a', b: 'ipfs-b', c: 'ipfs-c' },
}

describe('layoutGraph', () => {
  it('links every pair of peers, down where neither reports the other', () => {
    const picture = layoutGraph(graph, 300)
    expect(picture.links).toEqual([
      { from: 'a', to: 'b', up: true },
      { from: 'a', to: 'c', up: false },
      { from: 'b', to: 'c', up: true },
    ])
    expect(picture.ipfsLinks).toEqual([
      { from: 'ipfs-a', to: 'ipfs-b' },
      { from: 'ipfs-a', to: 'ipfs-c' },
    ])
  })

  it('places peers on a circle, the first at the top, each IPFS node outside its peer', () => {
    const picture = layoutGraph(graph, 300)
    const [first, second, third] = picture.nodes
    expect(first).toMatchObject({ id: 'a', name: 'alpha', x: 150, y: 60 })
    for (const node of [first, second, third]) {
      const distance = Math.hypot((node?.x ?? 0) - 150, (node?.y ?? 0) - 150)
      expect(distance).toBeCloseTo(90)
      const ipfs = node?.ipfs
      expect(Math.hypot((ipfs?.x ?? 0) - 150, (ipfs?.y ?? 0) - 150)).toBeCloseTo(132)
    }
  })

  it('puts a lone peer in the middle', () => {
    const picture = layoutGraph(
      { ...graph, id_to_peername: { a: 'alpha' }, cluster_links: {} },
      300,
    )
    expect(picture.nodes).toHaveLength(1)
    expect(picture.nodes[0]).toMatchObject({ x: 150, y: 150 })
    expect(picture.links).toEqual([])
  })
})

describe('graphFromPeers', () => {
  it('links the members that answered to each other and leaves one that did not unlinked', () => {
    const members = ['a', 'b', 'c']
    const built = graphFromPeers('a', [
      peer('a', 'alpha', members),
      peer('b', 'beta', members),
      peer('c', '', members, 'could not dial c'),
    ])
    expect(built.cluster_links).toEqual({ a: ['b'], b: ['a'], c: [] })
    expect(built.cluster_to_ipfs).toEqual({ a: 'ipfs-a', b: 'ipfs-b' })
    expect(layoutGraph(built, 300).links.map((link) => link.up)).toEqual([true, false, false])
  })
})
