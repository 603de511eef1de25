import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { describe, expect, it, onTestFinished } from 'vitest'
import { componentsFromLibp2p, PeerstoreManager, pstoreManager } from '../src/index.ts'
import { temporaryFolder } from './fixtures.ts'

/** A fresh object each time: createLibp2p keeps the key it generates in the options it gets. */
function loopback() {
  return {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  }
}

/** A libp2p 3 node listening on loopback only, with TCP, noise and yamux, stopped after the test. */
async function loopbackNode(): Promise<Libp2p> {
  const node = await createLibp2p(loopback())
  onTestFinished(() => node.stop())
  return node
}

/** The same, with the manager as a libp2p service (libp2p starts and stops it). */
async function loopbackNodeWithManager(
  peerstorePath: string,
): Promise<Libp2p<{ pstore: PeerstoreManager }>> {
  const node = await createLibp2p({
    ...loopback(),
    services: { pstore: pstoreManager({ peerstorePath }) },
  })
  onTestFinished(() => node.stop())
  return node
}

function address(node: Libp2p): Multiaddr {
  const listening = node.getMultiaddrs()[0]
  if (listening === undefined) throw new Error('the node is not listening')
  return listening
}

describe('with real libp2p nodes on 127.0.0.1', () => {
  it('imports peers and dials them', async () => {
    const [a, b, c] = await Promise.all([loopbackNode(), loopbackNode(), loopbackNode()])
    const manager = new PeerstoreManager(componentsFromLibp2p(a))
    const result = await manager.importPeers([address(b), address(c)], { connect: true })
    expect(result.failures).toEqual([])
    expect(result.connected.map(String).sort()).toEqual([b.peerId, c.peerId].map(String).sort())
    expect(a.getConnections(b.peerId).length).toBeGreaterThan(0)
    expect(a.getConnections(c.peerId).length).toBeGreaterThan(0)
  })

  it('bootstraps by priority, demotes a dead peer, and the saved file keeps that order', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    const [a, alive, dead] = await Promise.all([loopbackNode(), loopbackNode(), loopbackNode()])
    const deadAddress = address(dead)
    await dead.stop()

    const manager = new PeerstoreManager(componentsFromLibp2p(a), { peerstorePath: path })
    await manager.start()
    await manager.importPeers([deadAddress, address(alive)])
    const result = await manager.bootstrap(1)
    expect(result.demoted.map(String)).toEqual([dead.peerId.toString()])
    expect(result.connected.map(String)).toEqual([alive.peerId.toString()])
    expect(a.getConnections(alive.peerId).length).toBeGreaterThan(0)
    await manager.savePeerstoreForPeers([a.peerId, alive.peerId, dead.peerId])
    await manager.stop()
    expect(await readFile(path, 'utf8')).toBe(`${address(alive)}\n${deadAddress}\n`)

    // The next start reads the file and tries the live peer first.
    const restarted = await loopbackNode()
    const next = new PeerstoreManager(componentsFromLibp2p(restarted), { peerstorePath: path })
    await next.start()
    const second = await next.bootstrap(1)
    expect(second.connected.map(String)).toEqual([alive.peerId.toString()])
    expect(second.demoted).toEqual([])
  })

  it('runs as a libp2p service: loads on start, dials through the connection manager, saves on stop', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    const peer = await loopbackNode()
    const first = await loopbackNodeWithManager(path)
    await first.services.pstore.importPeer(address(peer))
    await first.services.pstore.savePeerstoreForPeers([first.peerId, peer.peerId])
    await first.stop()

    const node = await loopbackNodeWithManager(path)
    expect(node.services.pstore.isStarted()).toBe(true)
    const result = await node.services.pstore.bootstrap(1)
    expect(result.connected.map(String)).toEqual([peer.peerId.toString()])
    expect(node.getConnections(peer.peerId).length).toBeGreaterThan(0)
    expect(await readFile(path, 'utf8')).toBe(`${address(peer)}\n`)
  })
})
