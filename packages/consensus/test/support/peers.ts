import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import type { Logger } from '@pinraft/raft-core'
import { type RaftTransport, raftTransport } from '@pinraft/raft-libp2p'
import { createLibp2p } from 'libp2p'
import {
  createConsensus,
  type RaftConfigurationJson,
  type RaftConsensus,
  resolveRaftConfiguration,
} from '../../src/index.ts'

export type ConsensusLibp2p = Libp2p<{ raft: RaftTransport }>

export interface TestPeer {
  key: PrivateKey
  id: string
  folder: string
  libp2p: ConsensusLibp2p
  consensus: RaftConsensus
  /** How many times each CID was added on this peer (pins must arrive exactly once). */
  added: Map<string, number>
}

/** Fast timings for tests on loopback: elections in a few hundred ms. */
export const fastRaft: RaftConfigurationJson = {
  heartbeat_timeout: '200ms',
  election_timeout: '200ms',
  leader_lease_timeout: '100ms',
  commit_retry_delay: '100ms',
  commit_retries: 5,
  network_timeout: '3s',
  wait_for_leader_timeout: '10s',
  snapshot_interval: '0s',
}

export class TestCluster {
  readonly peers = new Map<string, TestPeer>()
  private readonly folders: string[] = []
  /**
   * Whether peers count each CID added (`TestPeer.added`). The benchmark turns it off: a string
   * and a map update per pin on every peer is the harness's CPU, not the component's.
   */
  private readonly countAdded: boolean

  constructor(options: { countAdded?: boolean } = {}) {
    this.countAdded = options.countAdded ?? true
  }

  async folder(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'pinraft-consensus-'))
    this.folders.push(folder)
    return folder
  }

  async node(key: PrivateKey): Promise<ConsensusLibp2p> {
    return createLibp2p({
      privateKey: key,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { raft: raftTransport() },
      // Every test peer dials from 127.0.0.1: libp2p's default of 5 inbound connections per
      // host and second would reset some of them.
      connectionManager: { inboundConnectionThreshold: 1000 },
    })
  }

  /** Starts a peer (a new key, or `key` to restart one) with its Raft data in `folder`. */
  async start(options: {
    key?: PrivateKey
    folder?: string
    initPeerset?: string[]
    staging?: boolean
    raft?: RaftConfigurationJson
    newCluster?: boolean
    logger?: Logger
    progressLogInterval?: number
    /** Runs on the new node before consensus starts on it (to observe its Raft transport). */
    onLibp2p?: (libp2p: ConsensusLibp2p) => void
  }): Promise<TestPeer> {
    const key = options.key ?? (await generateKeyPair('Ed25519'))
    const folder = options.folder ?? (await this.folder())
    const libp2p = await this.node(key)
    options.onLibp2p?.(libp2p)
    await this.introduce(libp2p)
    const configuration = resolveRaftConfiguration(
      { ...fastRaft, init_peerset: options.initPeerset ?? [], ...options.raft },
      { dataFolder: join(folder, 'raft') },
    )
    let consensus: RaftConsensus
    try {
      consensus = await createConsensus({
        libp2p,
        configuration,
        staging: options.staging ?? false,
        ...(options.newCluster === undefined ? {} : { newCluster: options.newCluster }),
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(options.progressLogInterval === undefined
          ? {}
          : { progressLogInterval: options.progressLogInterval }),
      })
    } catch (error) {
      await libp2p.stop()
      throw error
    }
    const peer: TestPeer = {
      key,
      id: libp2p.peerId.toString(),
      folder,
      libp2p,
      consensus,
      added: new Map(),
    }
    if (this.countAdded) {
      consensus.addEventListener('pin:add', (event) => {
        const cid = event.detail.pin.cid.toString()
        peer.added.set(cid, (peer.added.get(cid) ?? 0) + 1)
      })
    }
    this.peers.set(peer.id, peer)
    return peer
  }

  /** Tells the new node and every running one where the others listen (pstoremgr's job). */
  private async introduce(node: ConsensusLibp2p): Promise<void> {
    for (const peer of this.peers.values()) {
      if (peer.libp2p.status !== 'started') continue
      await node.peerStore.merge(peer.libp2p.peerId, { multiaddrs: peer.libp2p.getMultiaddrs() })
      await peer.libp2p.peerStore.merge(node.peerId, { multiaddrs: node.getMultiaddrs() })
    }
  }

  /** Starts `count` peers that bootstrap together through init_peerset. */
  async bootstrap(
    count: number,
    raft?: RaftConfigurationJson,
    onLibp2p?: (libp2p: ConsensusLibp2p) => void,
  ): Promise<TestPeer[]> {
    const keys = await Promise.all(Array.from({ length: count }, () => generateKeyPair('Ed25519')))
    const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
    const ids = keys.map((key) => peerIdFromPrivateKey(key).toString())
    const peers: TestPeer[] = []
    for (const key of keys) {
      peers.push(
        await this.start({
          key,
          initPeerset: ids,
          ...(raft === undefined ? {} : { raft }),
          ...(onLibp2p === undefined ? {} : { onLibp2p }),
        }),
      )
    }
    await Promise.all(
      peers.map((peer) => peer.consensus.ready({ signal: AbortSignal.timeout(20_000) })),
    )
    return peers
  }

  running(): TestPeer[] {
    return [...this.peers.values()].filter((peer) => peer.libp2p.status === 'started')
  }

  async leader(): Promise<TestPeer> {
    const any = this.running()[0]
    if (any === undefined) throw new Error('no running peer')
    const id = await any.consensus.leader({ signal: AbortSignal.timeout(15_000) })
    const leader = this.peers.get(id)
    if (leader === undefined) throw new Error(`unknown leader ${id}`)
    return leader
  }

  /** Stops a peer (consensus, then libp2p), keeping its data for a restart. */
  async stop(peer: TestPeer): Promise<void> {
    await peer.consensus.shutdown().catch(() => {})
    await peer.libp2p.stop()
  }

  async stopAll(): Promise<void> {
    for (const peer of this.running()) await this.stop(peer)
    for (const folder of this.folders) await rm(folder, { recursive: true, force: true })
  }
}

/** A logger that keeps every line, for tests that check what a peer says. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = []
  debug(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'debug', message, fields })
  }
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', message, fields })
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', message, fields })
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', message, fields })
  }
  /** The lines at `level` whose message matches `pattern`. */
  find(
    level: string,
    pattern: RegExp,
  ): Array<{ message: string; fields: Record<string, unknown> }> {
    return this.lines.filter((line) => line.level === level && pattern.test(line.message))
  }
}

/** Polls `predicate` every 20 ms until it holds, or fails after `limit` ms. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  limit = 15_000,
): Promise<void> {
  const deadline = Date.now() + limit
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${limit} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A valid CIDv1 (raw, sha2-256 of the text). */
export async function cidFor(text: string): Promise<string> {
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const digest = await sha256.digest(new TextEncoder().encode(text))
  return CID.createV1(0x55, digest).toString()
}
