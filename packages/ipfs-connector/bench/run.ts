/**
 * Benchmarks of the embedded IPFS node (in one process, loopback only, repositories on disk in
 * a temporary folder):
 * - add: N MiB of random bytes through the UnixFS adder into one node (MB/s, RSS growth);
 * - replication: M MiB added on node 1, then pinned by nodes 2 and 3 at once over bitswap
 *   (MB/s per pinning node).
 * Usage: pnpm bench [-- --add-mib 256 --replicate-mib 64]
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { CID } from 'multiformats/cid'
import { addUnixfs } from '../src/adder/unixfs-adder.ts'
import { resolveEmbeddedConfiguration } from '../src/configuration/embedded-configuration.ts'
import {
  createEmbeddedConnector,
  type EmbeddedIpfsConnector,
} from '../src/embedded/embedded-connector.ts'

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`)
  const value = index < 0 ? undefined : Number(process.argv[index + 1])
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

const addMib = option('add-mib', 256)
const replicateMib = option('replicate-mib', 64)
const mib = 1024 * 1024
const root = await mkdtemp(join(tmpdir(), 'pinraft-ipfs-bench-'))

async function node(name: string): Promise<EmbeddedIpfsConnector> {
  const connector = createEmbeddedConnector({
    configuration: resolveEmbeddedConfiguration({
      listen_multiaddress: '/ip4/127.0.0.1/tcp/0',
      pin_timeout: '5m0s',
    }),
    folder: join(root, name),
    privateKey: await generateKeyPair('Ed25519'),
  })
  await connector.start()
  return connector
}

/** Random bytes made as they are read: the input is never held whole. */
async function* randomStream(total: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += mib) yield randomBytes(Math.min(mib, total - sent))
}

async function add(connector: EmbeddedIpfsConnector, bytes: number): Promise<CID> {
  const generator = addUnixfs(
    (async function* () {
      yield { path: 'bench.bin', content: randomStream(bytes) }
    })(),
    connector,
    { cidVersion: 1 },
  )
  let next = await generator.next()
  while (next.done !== true) next = await generator.next()
  return next.value
}

try {
  // --- add
  const adder = await node('add')
  globalThis.gc?.()
  const rssBefore = process.memoryUsage().rss
  let rssPeak = rssBefore
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }, 50)
  let started = performance.now()
  await add(adder, addMib * mib)
  const addSeconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  await adder.stop()

  // --- replication
  const [source, first, second] = [await node('r1'), await node('r2'), await node('r3')]
  const rootCid = await add(source, replicateMib * mib)
  const addresses = (await source.id()).addresses
  await first.connectSwarms(addresses)
  await second.connectSwarms(addresses)
  const seconds: number[] = []
  started = performance.now()
  await Promise.all(
    [first, second].map(async (peer) => {
      await peer.pin(rootCid)
      seconds.push((performance.now() - started) / 1000)
    }),
  )
  for (const peer of [source, first, second]) await peer.stop()

  console.log(
    JSON.stringify({
      addMiB: addMib,
      addMBps: Number(((addMib * mib) / 1e6 / addSeconds).toFixed(1)),
      addRssGrowthMB: Math.round((rssPeak - rssBefore) / 1e6),
      replicateMiB: replicateMib,
      replicationMBpsPerPeer: seconds.map((value) =>
        Number(((replicateMib * mib) / 1e6 / value).toFixed(1)),
      ),
    }),
  )
} finally {
  await rm(root, { recursive: true, force: true })
}
