import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeerId, PeerQuery, PeerStore } from '@libp2p/interface'
import type { DNS } from '@multiformats/dns'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PeerstoreManager, PRIORITY_KEY, pstoreManager } from '../src/index.ts'
import { FakeDialer, fakeDns, newPeerId, offlineNode, temporaryFolder } from './fixtures.ts'

interface Setup {
  node: Libp2p
  manager: PeerstoreManager
  dialer: FakeDialer
}

async function setup(init: { peerstorePath?: string; dns?: DNS } = {}): Promise<Setup> {
  const node = await offlineNode()
  const dialer = new FakeDialer()
  const manager = pstoreManager({ dns: fakeDns({}), ...init })({
    peerId: node.peerId,
    peerStore: node.peerStore,
    connectionManager: dialer,
    logger: node.logger,
  })
  return { node, manager, dialer }
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

const ids = (peers: readonly PeerId[]): string[] => peers.map(String)

afterEach(() => {
  vi.useRealTimers()
})

describe('importing peers', () => {
  it('gives peers priorities in the order given, one per peer, lower first', async () => {
    const { manager } = await setup()
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    const result = await manager.importPeers([
      `/ip4/192.0.2.3/tcp/9096/p2p/${c}`,
      `/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
      `/ip4/192.0.2.33/tcp/9096/p2p/${c}`,
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
    ])
    expect(ids(result.peers)).toEqual(ids([c, a, b]))
    expect(await manager.getPriority(c)).toBe(0)
    expect(await manager.getPriority(a)).toBe(1)
    expect(await manager.getPriority(b)).toBe(2)
    const infos = await manager.peerInfos([a, b, c])
    expect(ids(infos.map((info) => info.id))).toEqual(ids([c, a, b]))
    expect(infos[0]?.multiaddrs.map(String)).toEqual([
      `/ip4/192.0.2.3/tcp/9096/p2p/${c}`,
      `/ip4/192.0.2.33/tcp/9096/p2p/${c}`,
    ])
  })

  it('gives every peer the priority asked for', async () => {
    const { manager } = await setup()
    const [a, b] = [await newPeerId(), await newPeerId()]
    await manager.importPeers([`/ip4/192.0.2.1/tcp/1/p2p/${a}`, `/ip4/192.0.2.2/tcp/1/p2p/${b}`], {
      priority: 7,
    })
    expect(await manager.getPriority(a)).toBe(7)
    expect(await manager.getPriority(b)).toBe(7)
  })

  it('puts the addresses into the libp2p peer store', async () => {
    const { manager, node } = await setup()
    const a = await newPeerId()
    await manager.importPeer(`/ip4/192.0.2.1/tcp/9096/ipfs/${a}`)
    const peer = await node.peerStore.get(a)
    expect(peer.addresses.map((address) => address.multiaddr.toString())).toEqual([
      '/ip4/192.0.2.1/tcp/9096',
    ])
    expect(peer.metadata.has(PRIORITY_KEY)).toBe(true)
  })

  it('skips our own peer ID', async () => {
    const { manager, node } = await setup()
    const a = await newPeerId()
    const result = await manager.importPeers([
      `/ip4/192.0.2.9/tcp/9096/p2p/${node.peerId}`,
      `/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
    ])
    expect(ids(result.peers)).toEqual(ids([a]))
    expect(await manager.getPriority(a)).toBe(0)
    expect(await manager.getPriority(node.peerId)).toBeUndefined()
    expect(await manager.peerInfos([node.peerId, a])).toHaveLength(1)
  })

  it('validates every address before importing any', async () => {
    const { manager, node } = await setup()
    const a = await newPeerId()
    const error = await caught(
      manager.importPeers([`/ip4/192.0.2.1/tcp/9096/p2p/${a}`, '/ip4/192.0.2.2/tcp/9096']),
    )
    expect(error.name).toBe('InvalidMultiaddrError')
    expect(await node.peerStore.has(a)).toBe(false)
  })

  it('dials the imported peers when asked, reporting the ones that fail', async () => {
    const { manager, dialer } = await setup()
    const [a, b] = [await newPeerId(), await newPeerId()]
    dialer.reachable.add(a.toString())
    const result = await manager.importPeers(
      [`/ip4/192.0.2.1/tcp/1/p2p/${a}`, `/ip4/192.0.2.2/tcp/1/p2p/${b}`],
      { connect: true },
    )
    expect(ids(result.connected)).toEqual(ids([a]))
    expect(result.failures.map((failure) => failure.peerId?.toString())).toEqual(ids([b]))
    expect(dialer.dials.map((target) => target.map(String))).toEqual([
      [`/ip4/192.0.2.1/tcp/1/p2p/${a}`],
      [`/ip4/192.0.2.2/tcp/1/p2p/${b}`],
    ])
  })

  it('does not dial unless asked', async () => {
    const { manager, dialer } = await setup()
    await manager.importPeer(`/ip4/192.0.2.1/tcp/1/p2p/${await newPeerId()}`)
    expect(dialer.dials).toEqual([])
  })
})

describe('DNS addresses', () => {
  it('keeps only the DNS addresses of a peer that has some', async () => {
    const { manager, node } = await setup()
    const [a, b] = [await newPeerId(), await newPeerId()]
    await manager.importPeers([
      `/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
      `/dns4/a.cluster.example/tcp/9096/p2p/${a}`,
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
      `/ip6/2001:db8::2/tcp/9096/p2p/${b}`,
    ])
    // An address libp2p learned on its own (identify) does not displace the DNS one.
    await node.peerStore.merge(a, { multiaddrs: [multiaddr('/ip4/198.51.100.7/tcp/9096')] })
    expect((await manager.peerAddresses(a)).map(String)).toEqual([
      `/dns4/a.cluster.example/tcp/9096/p2p/${a}`,
    ])
    expect((await manager.peerAddresses(b)).map(String)).toEqual([
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
      `/ip6/2001:db8::2/tcp/9096/p2p/${b}`,
    ])
  })

  it('keeps imported addresses after libp2p ages them out of the peer store', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { manager, node } = await setup()
    const a = await newPeerId()
    await manager.importPeer(`/dns4/a.cluster.example/tcp/9096/p2p/${a}`)
    vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000)
    expect((await node.peerStore.get(a)).addresses).toEqual([])
    expect((await manager.peerAddresses(a)).map(String)).toEqual([
      `/dns4/a.cluster.example/tcp/9096/p2p/${a}`,
    ])
  })

  it('resolves /dnsaddr and remembers the domain rather than what it points to today', async () => {
    const [a, b] = [await newPeerId(), await newPeerId()]
    const dns = fakeDns({
      '_dnsaddr.cluster.example': [
        `dnsaddr=/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
        `dnsaddr=/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
      ],
    })
    const { manager, node } = await setup({ dns })
    const result = await manager.importPeer('/dnsaddr/cluster.example')
    expect(ids(result.peers)).toEqual(ids([a, b]))
    expect(result.failures).toEqual([])
    const stored = await node.peerStore.get(b)
    expect(stored.addresses.map((address) => address.multiaddr.toString()).sort()).toEqual([
      '/dnsaddr/cluster.example',
      '/ip4/192.0.2.2/tcp/9096',
    ])
    expect((await manager.peerAddresses(b)).map(String)).toEqual([
      `/dnsaddr/cluster.example/p2p/${b}`,
    ])
  })

  it('skips our own peer ID among the resolved addresses', async () => {
    const node = await offlineNode()
    const a = await newPeerId()
    const dns = fakeDns({
      '_dnsaddr.cluster.example': [
        `dnsaddr=/ip4/192.0.2.1/tcp/9096/p2p/${node.peerId}`,
        `dnsaddr=/ip4/192.0.2.2/tcp/9096/p2p/${a}`,
      ],
    })
    const manager = new PeerstoreManager(
      { peerId: node.peerId, peerStore: node.peerStore, connectionManager: new FakeDialer() },
      { dns },
    )
    const result = await manager.importPeer('/dnsaddr/cluster.example')
    expect(ids(result.peers)).toEqual(ids([a]))
  })

  it('reports a failed lookup and still remembers a peer named in full by its domain', async () => {
    const a = await newPeerId()
    const dns = fakeDns({}, ['_dnsaddr.down.example', '_dnsaddr.other.example'])
    const { manager } = await setup({ dns })
    const result = await manager.importPeers([
      `/dnsaddr/down.example/p2p/${a}`,
      '/dnsaddr/other.example',
    ])
    expect(ids(result.peers)).toEqual(ids([a]))
    expect(result.failures.map((failure) => [failure.multiaddr, failure.error.name])).toEqual([
      [`/dnsaddr/down.example/p2p/${a}`, 'DnsaddrResolutionError'],
      ['/dnsaddr/other.example', 'DnsaddrResolutionError'],
    ])
    expect((await manager.peerAddresses(a)).map(String)).toEqual([`/dnsaddr/down.example/p2p/${a}`])
  })
})

describe('the peerstore file', () => {
  it('saves the current peers only, by priority, and forgets the removed ones', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const { manager, node } = await setup({ peerstorePath: path })
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    await manager.importPeers([
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
      `/ip4/192.0.2.3/tcp/9096/p2p/${c}`,
      `/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
      `/dns4/a.cluster.example/tcp/9096/p2p/${a}`,
    ])
    const saved: unknown[] = []
    const forgotten: string[] = []
    manager.addEventListener('peerstore:save', (event) =>
      saved.push(event.detail.peers.map(String)),
    )
    manager.addEventListener('peer:forget', (event) => forgotten.push(event.detail.toString()))

    await manager.savePeerstoreForPeers([a, b, node.peerId])
    expect(await readFile(path, 'utf8')).toBe(
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}\n/dns4/a.cluster.example/tcp/9096/p2p/${a}\n`,
    )
    expect(saved).toEqual([ids([b, a])])
    expect(forgotten).toEqual(ids([c]))
    const removed = await node.peerStore.get(c)
    expect(removed.addresses).toEqual([])
    expect(removed.metadata.has(PRIORITY_KEY)).toBe(false)
    expect(await manager.peerAddresses(c)).toEqual([])
  })

  it('loads on start what was saved, with the same priorities', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const first = await setup({ peerstorePath: path })
    const [a, b] = [await newPeerId(), await newPeerId()]
    await first.manager.importPeers([
      `/ip4/192.0.2.2/tcp/9096/p2p/${b}`,
      `/ip4/192.0.2.1/tcp/9096/p2p/${a}`,
      `/ip4/192.0.2.11/tcp/9096/p2p/${a}`,
    ])
    await first.manager.savePeerstoreForPeers([a, b])

    const second = await setup({ peerstorePath: path })
    await second.manager.start()
    expect(ids((await second.manager.peerInfos([a, b])).map((info) => info.id))).toEqual(
      ids([b, a]),
    )
    expect((await second.manager.peerAddresses(a)).map(String)).toEqual(
      (await first.manager.peerAddresses(a)).map(String),
    )
    expect(second.dialer.dials).toEqual([])
  })

  it('refuses to start with a bad line, naming it', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    await writeFile(
      path,
      `# peers\n/ip4/192.0.2.1/tcp/9096/p2p/${await newPeerId()}\n/ip4/1.2.3.4\n`,
    )
    const { manager } = await setup({ peerstorePath: path })
    const error = await caught(manager.start())
    expect(error.name).toBe('InvalidMultiaddrError')
    expect(error.message.startsWith(`${path}:3: `)).toBe(true)
    expect(manager.isStarted()).toBe(false)
  })

  it('saves again on stop for the last peerset, and leaves the file alone without one', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const [a, b] = [await newPeerId(), await newPeerId()]
    await writeFile(path, `/ip4/192.0.2.1/tcp/1/p2p/${a}\n`)
    const untouched = await setup({ peerstorePath: path })
    await untouched.manager.start()
    await untouched.manager.stop()
    expect(await readFile(path, 'utf8')).toBe(`/ip4/192.0.2.1/tcp/1/p2p/${a}\n`)

    const { manager, node } = await setup({ peerstorePath: path })
    await manager.start()
    await manager.savePeerstoreForPeers([a])
    await manager.importPeer(`/ip4/192.0.2.2/tcp/1/p2p/${b}`)
    // libp2p learned a new address for a while we ran: stop saves it.
    await node.peerStore.merge(a, { multiaddrs: [multiaddr('/ip4/192.0.2.9/tcp/1')] })
    await manager.stop()
    expect(await readFile(path, 'utf8')).toBe(
      `/ip4/192.0.2.1/tcp/1/p2p/${a}\n/ip4/192.0.2.9/tcp/1/p2p/${a}\n`,
    )
  })

  it('still saves a peer of the peerset that the peer store dropped, and restores it', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const a = await newPeerId()
    await writeFile(path, `/dns4/a.cluster.example/tcp/1/p2p/${a}\n`)
    const { manager, node } = await setup({ peerstorePath: path })
    await manager.start()
    await node.peerStore.delete(a)
    await manager.savePeerstoreForPeers([a])
    expect(await readFile(path, 'utf8')).toBe(`/dns4/a.cluster.example/tcp/1/p2p/${a}\n`)
    expect(await manager.getPriority(a)).toBe(0)
  })

  it('adopts a new peer of the peerset that libp2p learned about on its own', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const { manager, node, dialer } = await setup({ peerstorePath: path })
    const [a, joined] = [await newPeerId(), await newPeerId()]
    await manager.importPeer(`/ip4/192.0.2.1/tcp/1/p2p/${a}`)
    // As identify would, when the new peer connected to us.
    await node.peerStore.merge(joined, { multiaddrs: [multiaddr('/ip4/192.0.2.2/tcp/1')] })
    await manager.savePeerstoreForPeers([a, joined])
    expect(await manager.getPriority(joined)).toBe(1)
    expect(await readFile(path, 'utf8')).toBe(
      `/ip4/192.0.2.1/tcp/1/p2p/${a}\n/ip4/192.0.2.2/tcp/1/p2p/${joined}\n`,
    )
    dialer.reachable.add(joined.toString())
    expect(ids((await manager.bootstrap(1)).connected)).toEqual(ids([joined]))
  })

  it('ends with the last peerset when saves overlap', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    const node = await offlineNode()
    // The first save stalls in the peer store until released, as a slow datastore would.
    let release = (): void => {}
    const stalled = new Promise<void>((resolve) => {
      release = resolve
    })
    let listings = 0
    const peerStore: PeerStore = new Proxy(node.peerStore, {
      get(target, property) {
        if (property === 'all') {
          return async (query?: PeerQuery) => {
            listings++
            if (listings === 1) await stalled
            return target.all(query)
          }
        }
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const manager = new PeerstoreManager(
      { peerId: node.peerId, peerStore, connectionManager: new FakeDialer() },
      { peerstorePath: path },
    )
    const [a, b, joined] = [await newPeerId(), await newPeerId(), await newPeerId()]
    await manager.importPeers([`/ip4/192.0.2.1/tcp/1/p2p/${a}`, `/ip4/192.0.2.2/tcp/1/p2p/${b}`])
    await node.peerStore.merge(joined, { multiaddrs: [multiaddr('/ip4/192.0.2.3/tcp/1')] })
    listings = 0

    const first = manager.savePeerstoreForPeers([a, b])
    const second = manager.savePeerstoreForPeers([a, b, joined])
    // A second save that did not wait its turn has already started: let it finish first.
    if (listings > 1) await second
    release()
    await Promise.all([first, second])
    expect(await readFile(path, 'utf8')).toBe(
      `/ip4/192.0.2.1/tcp/1/p2p/${a}\n/ip4/192.0.2.2/tcp/1/p2p/${b}\n/ip4/192.0.2.3/tcp/1/p2p/${joined}\n`,
    )
  })

  it('without a path, forgets removed peers and writes nothing', async () => {
    const { manager } = await setup()
    const [a, b] = [await newPeerId(), await newPeerId()]
    await manager.importPeers([`/ip4/192.0.2.1/tcp/1/p2p/${a}`, `/ip4/192.0.2.2/tcp/1/p2p/${b}`])
    await manager.savePeerstoreForPeers([a])
    expect(await manager.loadPeerstore()).toEqual([])
    expect(await manager.getPriority(b)).toBeUndefined()
  })
})

describe('bootstrap', () => {
  it('connects to up to N peers by priority', async () => {
    const { manager, dialer } = await setup()
    const peers = [await newPeerId(), await newPeerId(), await newPeerId()]
    for (const peer of peers) dialer.reachable.add(peer.toString())
    await manager.importPeers(
      peers.map((peer, index) => `/ip4/192.0.2.${index + 1}/tcp/1/p2p/${peer}`),
    )
    const result = await manager.bootstrap(2)
    expect(ids(result.connected)).toEqual(ids(peers.slice(0, 2)))
    expect(dialer.dialedPeers()).toEqual(ids(peers.slice(0, 2)))
  })

  it('counts peers already connected and does not dial them again', async () => {
    const { manager, dialer } = await setup()
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    for (const peer of [a, b, c]) dialer.reachable.add(peer.toString())
    await manager.importPeers([a, b, c].map((peer) => `/ip4/192.0.2.1/tcp/1/p2p/${peer}`))
    dialer.connected.add(b.toString())
    const result = await manager.bootstrap(2)
    expect(ids(result.connected)).toEqual(ids([a]))
    expect(ids(result.alreadyConnected)).toEqual(ids([b]))
    expect(dialer.dialedPeers()).toEqual(ids([a]))
  })

  it('demotes a peer that fails to dial, so the next bootstrap tries the others first', async () => {
    const { manager, dialer } = await setup()
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    dialer.reachable.add(b.toString())
    dialer.reachable.add(c.toString())
    await manager.importPeers([a, b, c].map((peer) => `/ip4/192.0.2.1/tcp/1/p2p/${peer}`))
    const demoted: Array<[string, number]> = []
    manager.addEventListener('peer:demote', (event) =>
      demoted.push([event.detail.peerId.toString(), event.detail.priority]),
    )

    const first = await manager.bootstrap(1)
    expect(ids(first.demoted)).toEqual(ids([a]))
    expect(ids(first.connected)).toEqual(ids([b]))
    expect(demoted).toEqual([[a.toString(), 3]])
    expect(ids((await manager.peerInfos([a, b, c])).map((info) => info.id))).toEqual(ids([b, c, a]))

    dialer.dials.length = 0
    dialer.connected.clear()
    dialer.reachable.add(a.toString())
    const second = await manager.bootstrap(3)
    expect(dialer.dialedPeers()).toEqual(ids([b, c, a]))
    expect(second.demoted).toEqual([])
  })

  it('demotes a peer without any known address', async () => {
    const { manager, node } = await setup()
    const a = await newPeerId()
    await manager.importPeer(`/ip4/192.0.2.1/tcp/1/p2p/${a}`)
    await node.peerStore.patch(a, {
      multiaddrs: [],
      metadata: { [PRIORITY_KEY]: new TextEncoder().encode('0') },
    })
    const errors: string[] = []
    manager.addEventListener('peer:demote', (event) => errors.push(event.detail.error.name))
    const result = await manager.bootstrap(1)
    expect(ids(result.demoted)).toEqual(ids([a]))
    expect(errors).toEqual(['PeerDialError'])
  })

  it('leaves peers it did not import alone', async () => {
    const { manager, node, dialer } = await setup()
    const stranger = await newPeerId()
    dialer.reachable.add(stranger.toString())
    await node.peerStore.merge(stranger, { multiaddrs: [multiaddr('/ip4/192.0.2.1/tcp/1')] })
    const result = await manager.bootstrap(1)
    expect(result.connected).toEqual([])
    expect(dialer.dials).toEqual([])
  })

  it('dials a /dnsaddr peer at the addresses it resolves to when bootstrapping', async () => {
    const a = await newPeerId()
    const dns = fakeDns(
      { '_dnsaddr.cluster.example': [`dnsaddr=/ip4/192.0.2.1/tcp/9096/p2p/${a}`] },
      ['_dnsaddr.cluster.example'],
    )
    const { manager, dialer } = await setup({ dns })
    dialer.reachable.add(a.toString())
    // DNS is down at import: only the domain is known.
    const imported = await manager.importPeer(`/dnsaddr/cluster.example/p2p/${a}`)
    expect(imported.failures).toHaveLength(1)
    dns.failing.clear()
    const result = await manager.bootstrap(1)
    expect(ids(result.connected)).toEqual(ids([a]))
    expect(dialer.dials.map((target) => target.map(String))).toEqual([
      [`/ip4/192.0.2.1/tcp/9096/p2p/${a}`],
    ])
  })

  it('stops when aborted without blaming the peer', async () => {
    const { manager } = await setup()
    const a = await newPeerId()
    await manager.importPeer(`/ip4/192.0.2.1/tcp/1/p2p/${a}`)
    const controller = new AbortController()
    controller.abort()
    const error = await caught(manager.bootstrap(1, { signal: controller.signal }))
    expect(error.name).toBe('AbortError')
    expect(await manager.getPriority(a)).toBe(0)
  })
})
