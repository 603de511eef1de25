import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { createConsensus, type RaftConsensus, resolveRaftConfiguration } from '@pinraft/consensus'
import { defaultStatelessConfiguration } from '@pinraft/pintracker'
import { FakeIpfsConnector, FakeIpfsNetwork } from '@pinraft/pintracker/testing'
import { type RaftTransport, raftTransport } from '@pinraft/raft-libp2p'
import fastify, { type FastifyInstance } from 'fastify'
import { createLibp2p } from 'libp2p'
import { pino } from 'pino'
import { type Pinning, startPinning } from '../../src/daemon/pinning.ts'
import { handleError } from '../../src/http/error-handler.ts'
import { pinStatusRoutes } from '../../src/http/routes/pin-status.ts'

export interface RaftPinningPeer {
  name: string
  key: PrivateKey
  id: string
  folder: string
  libp2p: Libp2p<{ raft: RaftTransport }>
  consensus: RaftConsensus
  connector: FakeIpfsConnector
  pinning: Pinning
  /** The status routes over this peer's cluster component (use `inject()`). */
  app: FastifyInstance
}

const fastRaft = {
  heartbeat_timeout: '200ms',
  election_timeout: '200ms',
  leader_lease_timeout: '100ms',
  commit_retry_delay: '100ms',
  commit_retries: 5,
  network_timeout: '3s',
  wait_for_leader_timeout: '10s',
  snapshot_interval: '0s',
}

/**
 * Peers as the daemon will wire them, short of the daemon itself: real Raft consensus over
 * libp2p on 127.0.0.1, `startPinning` (tracker and cluster component), the status routes, and
 * a fake IPFS node each on one fake network (the embedded Helia nodes come with the connector).
 */
export class RaftPinningCluster {
  readonly network = new FakeIpfsNetwork()
  readonly peers: RaftPinningPeer[] = []
  readonly #folders: string[] = []
  /** How long a pin of content nobody holds waits (the connector's pin_timeout). */
  readonly pinTimeout: number

  constructor(options: { pinTimeout?: number } = {}) {
    this.pinTimeout = options.pinTimeout ?? 120_000
  }

  async bootstrap(count: number): Promise<RaftPinningPeer[]> {
    const keys = await Promise.all(Array.from({ length: count }, () => generateKeyPair('Ed25519')))
    const ids = keys.map((key) => peerIdFromPrivateKey(key).toString())
    for (const [index, key] of keys.entries()) {
      const folder = await mkdtemp(join(tmpdir(), 'pinraft-pinning-'))
      this.#folders.push(folder)
      this.peers.push(await this.#start(`peer${index + 1}`, key, folder, ids))
    }
    await Promise.all(
      this.peers.map((peer) => peer.consensus.ready({ signal: AbortSignal.timeout(20_000) })),
    )
    return this.peers
  }

  async #start(
    name: string,
    key: PrivateKey,
    folder: string,
    initPeerset: string[],
  ): Promise<RaftPinningPeer> {
    const libp2p = await createLibp2p({
      privateKey: key,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { raft: raftTransport() },
    })
    for (const peer of this.peers) {
      if (peer.libp2p.status !== 'started') continue
      await libp2p.peerStore.merge(peer.libp2p.peerId, { multiaddrs: peer.libp2p.getMultiaddrs() })
      await peer.libp2p.peerStore.merge(libp2p.peerId, { multiaddrs: libp2p.getMultiaddrs() })
    }
    const consensus = await createConsensus({
      libp2p,
      configuration: resolveRaftConfiguration(
        { ...fastRaft, init_peerset: initPeerset },
        { dataFolder: join(folder, 'raft') },
      ),
      staging: false,
    })
    const connector = new FakeIpfsConnector({ network: this.network, pinTimeout: this.pinTimeout })
    await connector.start()
    const pinning = await startPinning({
      libp2p,
      consensus,
      connector,
      peername: name,
      stateless: defaultStatelessConfiguration,
      stateSyncInterval: 300_000,
      pinRecoverInterval: 720_000,
      peerTimeout: 3000,
      logger: pino({ level: 'silent' }),
    })
    const app = fastify()
    app.setErrorHandler(handleError(pino({ level: 'silent' })))
    app.register(pinStatusRoutes, {
      cluster: pinning.cluster,
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      now: () => Date.now(),
    })
    await app.ready()
    return {
      name,
      key,
      id: libp2p.peerId.toString(),
      folder,
      libp2p,
      consensus,
      connector,
      pinning,
      app,
    }
  }

  /** Stops a peer as a crash would look from outside (its IPFS node's pins are kept aside). */
  async stop(peer: RaftPinningPeer): Promise<void> {
    await peer.app.close()
    await peer.pinning.stop()
    await peer.consensus.shutdown().catch(() => {})
    await peer.libp2p.stop()
  }

  /** Starts a stopped peer again with its key and Raft data, and an empty IPFS repository. */
  async restart(peer: RaftPinningPeer): Promise<RaftPinningPeer> {
    const restarted = await this.#start(peer.name, peer.key, peer.folder, [])
    this.peers[this.peers.indexOf(peer)] = restarted
    return restarted
  }

  async stopAll(): Promise<void> {
    for (const peer of this.peers) {
      if (peer.libp2p.status === 'started') await this.stop(peer)
    }
    for (const folder of this.#folders) await rm(folder, { recursive: true, force: true })
  }
}
