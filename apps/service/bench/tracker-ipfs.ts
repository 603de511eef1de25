/**
 * The pin tracker over real embedded IPFS nodes (Helia on disk, bitswap on 127.0.0.1), three
 * peers in this process: each with its libp2p host for the cluster protocol, a tracker and the
 * cluster component, and one shared in-memory pinset standing in for consensus (so what is
 * measured is the tracker and IPFS, not Raft).
 * `pnpm --filter @pinraft/service exec node --conditions=@pinraft/source bench/tracker-ipfs.ts`
 * (`--quick`: 1,000 pins and a 10,000-pin status walk instead of 10,000 and 100,000).
 *
 * Prints:
 * - throughput: N small blocks held by peer 1 only, pinned on all three, pins/s until every
 *   tracker finished every pin (bitswap fetches by peers 2 and 3);
 * - `GET /pins?local=true` on peer 1 with M pins on its IPFS node: first line, whole stream;
 * - `GET /pins` (3 peers) with the same M pins: first line, whole stream.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { Cluster } from '@pinraft/cluster'
import {
  createEmbeddedConnector,
  type EmbeddedIpfsConnector,
  resolveEmbeddedConfiguration,
} from '@pinraft/ipfs-connector'
import { StatelessTracker } from '@pinraft/pintracker'
import { MemoryConsensusGroup } from '@pinraft/pintracker/testing'
import fastify from 'fastify'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { pino } from 'pino'
import { handleError } from '../src/http/error-handler.ts'
import { pinStatusRoutes } from '../src/http/routes/pin-status.ts'

const quick = process.argv.includes('--quick')
const pinCount = quick ? 1000 : 10_000
const statusCount = quick ? 10_000 : 100_000

interface Peer {
  id: string
  connector: EmbeddedIpfsConnector
  tracker: StatelessTracker
  cluster: Cluster
  done: number
  stop(): Promise<void>
}

async function block(label: string): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(`pinraft tracker bench ${label}`)
  return { cid: CID.create(1, raw.code, await sha256.digest(bytes)), bytes }
}

async function waitUntil(what: string, check: () => boolean, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function measure(url: string): Promise<{ first: number; total: number; lines: number }> {
  const began = performance.now()
  const response = await fetch(url)
  const reader = response.body!.getReader()
  let first = Number.NaN
  let lines = 0
  for (;;) {
    const chunk = await reader.read()
    if (chunk.done) break
    if (Number.isNaN(first)) first = performance.now() - began
    for (const byte of chunk.value) if (byte === 10) lines++
  }
  return { first, total: performance.now() - began, lines }
}

const root = await mkdtemp(join(tmpdir(), 'pinraft-tracker-bench-'))
const group = new MemoryConsensusGroup()
const peers: Peer[] = []
try {
  const hosts = await Promise.all(
    [0, 1, 2].map(() =>
      createLibp2p({
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
      }),
    ),
  )
  for (const host of hosts) group.members.push(host.peerId.toString())
  for (const [index, host] of hosts.entries()) {
    for (const other of hosts) {
      if (other !== host)
        await host.peerStore.merge(other.peerId, { multiaddrs: other.getMultiaddrs() })
    }
    const id = host.peerId.toString()
    const connector = createEmbeddedConnector({
      configuration: resolveEmbeddedConfiguration({
        listen_multiaddress: '/ip4/127.0.0.1/tcp/0',
        connect_swarms_delay: '0s',
      }),
      folder: join(root, `peer${index + 1}`),
      privateKey: await generateKeyPair('Ed25519'),
    })
    await connector.start()
    const consensus = group.peer(id)
    const tracker = new StatelessTracker({
      connector,
      consensus,
      peerId: id,
      peername: `peer${index + 1}`,
    })
    const cluster = new Cluster(
      { libp2p: host, consensus, connector, tracker },
      { peername: `peer${index + 1}`, peerTimeout: 10_000, streamFrameTimeout: 30_000 },
    )
    const peer: Peer = {
      id,
      connector,
      tracker,
      cluster,
      done: 0,
      stop: async () => {
        await cluster.stop()
        await tracker.stop()
        await connector.stop()
        await host.stop()
      },
    }
    tracker.addEventListener('operation:change', (event) => {
      if (event.detail.type === 'pin' && event.detail.phase === 'done') peer.done++
    })
    await tracker.start()
    await cluster.start()
    peers.push(peer)
  }
  const addresses = await Promise.all(
    peers.map(async (peer) => (await peer.connector.id()).addresses),
  )
  for (const [index, peer] of peers.entries()) {
    await peer.connector.connectSwarms(addresses.filter((_, other) => other !== index).flat())
  }
  const [first] = peers as [Peer, Peer, Peer]

  // Throughput: content on peer 1 only, pinned on three.
  const blocks = []
  for (let i = 0; i < pinCount; i++) blocks.push(await block(`throughput ${i}`))
  for (const { cid, bytes } of blocks) await first.connector.blockPut(cid, bytes)
  const began = performance.now()
  for (const { cid } of blocks) group.pin({ cid, timestamp: Date.now() })
  await waitUntil(
    'every tracker to pin every pin',
    () => peers.every((peer) => peer.done >= pinCount),
    600_000,
  )
  const seconds = (performance.now() - began) / 1000
  for (const peer of peers) {
    if ((await peer.connector.pinLsCid(blocks[pinCount - 1]!.cid)) !== 'recursive')
      throw new Error('a pin the tracker finished is not on IPFS')
  }
  console.log(
    `tracker throughput: ${pinCount} pins (content on peer 1) pinned on 3 peers in ${seconds.toFixed(1)} s = ${Math.round(pinCount / seconds)} pins/s`,
  )

  // The status walk: statusCount pins on peer 1's node, allocated to peer 1 only so the others
  // answer `remote` without IPFS (the global walk then measures the merge, not three nodes).
  const extra = statusCount - pinCount
  const populated = performance.now()
  const extraBlocks = []
  for (let i = 0; i < extra; i++) extraBlocks.push(await block(`status ${i}`))
  // 32 at a time: Helia pins one at a time slowly, and this part is only the set-up.
  for (let start = 0; start < extraBlocks.length; start += 32) {
    await Promise.all(
      extraBlocks.slice(start, start + 32).map(async ({ cid, bytes }) => {
        await first.connector.blockPut(cid, bytes)
        await first.connector.pin(cid)
      }),
    )
  }
  for (const { cid } of extraBlocks) {
    group.pin({
      cid,
      timestamp: Date.now(),
      allocations: [first.id],
      replicationFactorMin: 1,
      replicationFactorMax: 1,
    })
  }
  await waitUntil('peer 1 to settle', () => first.tracker.operationCount() === 0, 600_000)
  console.log(
    `(populated ${extra} more pins on peer 1's node in ${((performance.now() - populated) / 1000).toFixed(1)} s)`,
  )

  const app = fastify()
  app.setErrorHandler(handleError(pino({ level: 'silent' })))
  app.register(pinStatusRoutes, {
    cluster: first.cluster,
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    now: () => Date.now(),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  for (const [label, path] of [
    ['GET /pins?local=true', '/pins?local=true'],
    ['GET /pins (3 peers)', '/pins'],
  ] as const) {
    for (let round = 1; round <= 2; round++) {
      const result = await measure(`${base}${path}`)
      if (result.lines !== statusCount)
        throw new Error(`${label}: ${result.lines} lines, expected ${statusCount}`)
      console.log(
        `${label} (run ${round}): ${result.lines} lines, first after ${result.first.toFixed(0)} ms, all after ${(result.total / 1000).toFixed(2)} s`,
      )
    }
  }
  await app.close()
} finally {
  for (const peer of peers) await peer.stop().catch(() => {})
  await rm(root, { recursive: true, force: true })
}
