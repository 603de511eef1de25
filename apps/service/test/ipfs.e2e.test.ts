import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { CarWriter } from '@ipld/car/writer'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  type AddEntry,
  addUnixfs,
  catFile,
  createEmbeddedConnector,
  resolveEmbeddedConfiguration,
} from '@pinraft/ipfs-connector'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiHost,
  clusterAddress,
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startPeer,
  stopPeer,
  type TestPeer,
  waitFor,
  waitPeerReady,
} from './support/processes.ts'

/**
 * Three `pinraft daemon` processes, each with its embedded IPFS node on 127.0.0.1 (port 0):
 * content added through one peer's /add ends up whole on every peer's IPFS node, unpin + GC
 * removes it everywhere, CARs import under their header's root, and bad input fails cleanly.
 * The steps build on each other, so the tests run in order.
 */

type Peer = TestPeer

let root = ''
let peers: Peer[] = []
const bigFile = randomBytes(5 * 1024 * 1024)
let bigRoot = ''
let directoryRoot = ''

const address = clusterAddress
const start = startPeer
const waitReady = waitPeerReady

/** A clean stop: the IPFS node, consensus and libp2p closed without an unhandled error. */
async function stop(peer: Peer): Promise<void> {
  const output = peer.daemon?.output() ?? ''
  expect(await stopPeer(peer), output.slice(-4000)).toBe(0)
}

/** Waits until each peer's pin tracker reports `status` for `cid` (`GET /pins/{cid}?local`). */
async function waitStatus(on: Peer[], cid: string, status: string, timeout = 60_000) {
  const entries: { status: string; error: string }[] = []
  for (const peer of on) {
    try {
      entries.push(
        await waitFor(
          `${peer.name} to report ${cid} ${status}`,
          async () => {
            const response = await fetch(`http://127.0.0.1:${peer.apiPort}/pins/${cid}?local=true`)
            const global = (await response.json()) as {
              peer_map?: Record<string, { status: string; error: string }>
            }
            const entry = Object.values(global.peer_map ?? {})[0]
            return entry?.status === status ? entry : undefined
          },
          timeout,
          200,
        ),
      )
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${peer.daemon?.output().slice(-4000)}`)
    }
  }
  return entries
}

/** Every block CID of the DAG the adder makes from `entries` (default parameters). */
async function dagCids(
  entries: () => AsyncIterable<AddEntry>,
): Promise<{ root: string; cids: Set<string>; blocks: Map<string, Uint8Array> }> {
  const blocks = new Map<string, Uint8Array>()
  const generator = addUnixfs(entries(), {
    blockPut: async (cid, bytes) => {
      blocks.set(cid.toString(), bytes)
    },
  })
  let next = await generator.next()
  while (next.done !== true) next = await generator.next()
  return { root: next.value.toString(), cids: new Set(blocks.keys()), blocks }
}

async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 65_536)
    yield bytes.subarray(offset, offset + 65_536)
}

function multipart(parts: { name: string; type: string; body: Uint8Array | string }[]): {
  body: Buffer
  type: string
} {
  const boundary = randomBytes(12).toString('hex')
  const pieces: Buffer[] = []
  for (const part of parts) {
    pieces.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${encodeURIComponent(part.name)}"\r\nContent-Type: ${part.type}\r\n\r\n`,
      ),
      Buffer.from(part.body),
      Buffer.from('\r\n'),
    )
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(pieces), type: `multipart/form-data; boundary=${boundary}` }
}

beforeAll(async () => {
  const cluster = await initTestCluster('pinraft-ipfs-e2e-', {
    // Short, so that a CID nobody holds fails within the test.
    environment: () => ({ PINRAFT_IPFS_CONNECTOR_EMBEDDED_PIN_TIMEOUT: '3s' }),
  })
  root = cluster.root
  peers = cluster.peers
  await writeFile(join(root, 'big.bin'), bigFile)
  await mkdir(join(root, 'site', 'css'), { recursive: true })
  await writeFile(join(root, 'site', 'index.html'), '<h1>pinraft</h1>\n')
  await writeFile(join(root, 'site', 'css', 'style.css'), 'h1 { color: teal }\n')
}, 60_000)

afterAll(async () => {
  await removeTestCluster(root, peers)
})

describe('three pinraft daemons with embedded IPFS nodes', { timeout: 120_000 }, () => {
  it('starts the cluster; each /id carries its IPFS node’s ID and loopback addresses', async () => {
    const [alpha, beta, gamma] = peers as [Peer, Peer, Peer]
    start(alpha)
    await waitReady(alpha)
    start(beta, ['--bootstrap', address(alpha)])
    await waitReady(beta)
    start(gamma, ['--bootstrap', address(alpha)])
    await waitReady(gamma)
    const ids = await beta.client.peers()
    expect(ids).toHaveLength(3)
    for (const id of ids) {
      expect(id.ipfs.error).toBe('')
      expect(id.ipfs.id).toMatch(/^12D3KooW/)
      expect(id.ipfs.id).not.toBe(id.id)
      expect(id.ipfs.addresses.length).toBeGreaterThan(0)
      for (const entry of id.ipfs.addresses)
        expect(entry).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    }
  })

  it('adds a 5 MiB file and a directory through beta; every peer’s IPFS node pins them whole', async () => {
    const [, beta, gamma] = peers as [Peer, Peer, Peer]
    const file = await runPinraft(
      ['add', join(root, 'big.bin'), '--host', apiHost(beta), '--name', 'big', '--enc', 'json'],
      beta.environment,
      60_000,
    )
    expect(file.code, file.stderr).toBe(0)
    const lines = file.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { name: string; cid: string; size: number })
    expect(lines).toHaveLength(1)
    expect(lines[0]?.name).toBe('big.bin')
    const expected = await dagCids(async function* () {
      yield { path: 'big.bin', content: chunks(bigFile) }
    })
    bigRoot = lines[0]?.cid as string
    expect(bigRoot).toBe(expected.root)
    expect(lines[0]?.size).toBeGreaterThan(bigFile.length)

    const site = await runPinraft(
      ['add', '-r', join(root, 'site'), '--host', apiHost(beta)],
      beta.environment,
      60_000,
    )
    expect(site.code, site.stderr).toBe(0)
    const added = site.stdout.trim().split('\n')
    expect(added.map((line) => line.split(' ')[2])).toEqual([
      // Kubo's order: the files, then each directory once its entries are done.
      'site/css/style.css',
      'site/index.html',
      'site/css',
      'site',
    ])
    directoryRoot = added.at(-1)?.split(' ')[1] as string
    const pin = await beta.client.allocation(bigRoot)
    expect(pin.name).toBe('big')

    await waitStatus(peers, bigRoot, 'pinned')
    await waitStatus(peers, directoryRoot, 'pinned')

    // Gamma's node, opened offline once its daemon stopped, holds every block: the file reads
    // back byte for byte without any network.
    await stop(gamma)
    const offline = createEmbeddedConnector({
      configuration: resolveEmbeddedConfiguration({ listen_multiaddress: '/ip4/127.0.0.1/tcp/0' }),
      folder: join(gamma.folder, 'ipfs'),
      privateKey: await generateKeyPair('Ed25519'),
    })
    await offline.start()
    try {
      for (const cid of expected.cids)
        expect(await offline.blockHas(CID.parse(cid)), cid).toBe(true)
      const local = {
        blockGet: async (cid: CID) => {
          if (!(await offline.blockHas(cid))) throw new Error(`gamma lacks ${cid}`)
          return offline.blockGet(cid)
        },
      }
      const read: Uint8Array[] = []
      for await (const chunk of catFile(local, CID.parse(bigRoot))) read.push(chunk)
      expect(Buffer.compare(Buffer.concat(read), bigFile)).toBe(0)
      expect(await offline.pinLsCid(CID.parse(bigRoot))).toBe('recursive')
      expect(await offline.pinLsCid(CID.parse(directoryRoot))).toBe('recursive')
    } finally {
      await offline.stop()
    }
    start(gamma)
    await waitReady(gamma)
  })

  it('answers stream-channels=false with one JSON array', async () => {
    const beta = peers[1] as Peer
    const upload = multipart([
      { name: 'hello.txt', type: 'application/octet-stream', body: 'hello world\n' },
    ])
    const response = await fetch(
      `http://127.0.0.1:${beta.apiPort}/add?stream-channels=false&name=hello`,
      {
        method: 'POST',
        headers: { 'content-type': upload.type },
        body: upload.body,
      },
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual([
      { name: 'hello.txt', cid: 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o', size: 20 },
    ])
    expect(
      (await beta.client.allocation('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o')).name,
    ).toBe('hello')
  })

  it('unpins, then POST /ipfs/gc removes the blocks from every node', async () => {
    const alpha = peers[0] as Peer
    const expected = await dagCids(async function* () {
      yield { path: 'big.bin', content: chunks(bigFile) }
    })
    await alpha.client.unpin(bigRoot)
    await waitStatus(peers, bigRoot, 'unpinned')
    const gc = await runPinraft(
      ['ipfs', 'gc', '--host', apiHost(alpha), '--enc', 'json'],
      alpha.environment,
      60_000,
    )
    expect(gc.code, gc.stderr).toBe(0)
    const result = JSON.parse(gc.stdout) as {
      peer_map: Record<string, { peer: string; keys: { key: string }[] | null; error?: string }>
    }
    expect(Object.keys(result.peer_map).sort()).toEqual(peers.map((peer) => peer.peerId).sort())
    for (const [peer, entry] of Object.entries(result.peer_map)) {
      expect(entry.error, peer).toBeUndefined()
      // Blocks are stored (and reported) by multihash.
      const removed = new Set((entry.keys ?? []).map((key) => CID.parse(key.key).toV1().toString()))
      for (const cid of expected.cids)
        expect(removed.has(CID.parse(cid).toV1().toString()), `${peer} removed ${cid}`).toBe(true)
      // The directory is still pinned: nothing of it was collected.
      expect(removed.has(CID.parse(directoryRoot).toV1().toString())).toBe(false)
    }
  })

  it('imports a CAR with format=car and pins the CID its header names', async () => {
    const beta = peers[1] as Peer
    const content = randomBytes(700 * 1024)
    const dag = await dagCids(async function* () {
      yield { path: 'c.bin', content: chunks(content) }
    })
    const { writer, out } = CarWriter.create([CID.parse(dag.root)])
    const carChunks: Uint8Array[] = []
    const collecting = (async () => {
      for await (const chunk of out) carChunks.push(chunk)
    })()
    for (const [cid, bytes] of dag.blocks) await writer.put({ cid: CID.parse(cid), bytes })
    await writer.close()
    await collecting
    const upload = multipart([
      { name: 'c.car', type: 'application/octet-stream', body: Buffer.concat(carChunks) },
    ])
    const response = await fetch(`http://127.0.0.1:${beta.apiPort}/add?format=car&name=car`, {
      method: 'POST',
      headers: { 'content-type': upload.type },
      body: upload.body,
    })
    expect(response.status).toBe(200)
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines).toEqual([
      {
        name: 'c.car',
        cid: dag.root,
        bytes: [...dag.blocks.values()].reduce((sum, bytes) => sum + bytes.length, 0),
        size: content.length,
      },
    ])
    expect((await beta.client.allocation(dag.root)).name).toBe('car')
    await waitStatus(peers, dag.root, 'pinned')
  })

  it('refuses a malformed multipart body with a 400 and pins nothing', async () => {
    const beta = peers[1] as Peer
    const before = (await beta.client.allocations()).length
    const broken = await fetch(`http://127.0.0.1:${beta.apiPort}/add`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: 'this is not multipart at all',
    })
    expect(broken.status).toBe(400)
    expect(((await broken.json()) as { message: string }).message).toContain('multipart')
    const notMultipart = await fetch(`http://127.0.0.1:${beta.apiPort}/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(notMultipart.status).toBe(400)
    const badChunker = multipart([{ name: 'x', type: 'application/octet-stream', body: 'x' }])
    const refused = await fetch(`http://127.0.0.1:${beta.apiPort}/add?chunker=buzhash`, {
      method: 'POST',
      headers: { 'content-type': badChunker.type },
      body: badChunker.body,
    })
    expect(refused.status).toBe(400)
    expect((await beta.client.allocations()).length).toBe(before)
  })

  it('pins nothing when an add is cancelled midway', async () => {
    const beta = peers[1] as Peer
    const before = (await beta.client.allocations()).length
    const count = (message: string): number =>
      (beta.daemon?.output() ?? '')
        .split('\n')
        .filter((line) => line.includes(`"msg":"${message}"`)).length
    const [startedBefore, cancelledBefore] = [count('add started'), count('add cancelled')]
    const boundary = 'cancelledboundary'
    const upload = httpRequest(`http://127.0.0.1:${beta.apiPort}/add?name=cut`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })
    upload.on('error', () => {})
    upload.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    )
    upload.write(randomBytes(1024 * 1024))
    await waitFor(
      'beta to start the add',
      async () => (count('add started') > startedBefore ? true : undefined),
      15_000,
    )
    // The client goes away half-way through the file.
    upload.destroy()
    await waitFor(
      'beta to give up the cancelled add',
      async () => (count('add cancelled') > cancelledBefore ? true : undefined),
      15_000,
    )
    expect((await beta.client.allocations()).length).toBe(before)
    expect((await beta.client.allocations()).some((pin) => pin.name === 'cut')).toBe(false)
    expect((await beta.client.id()).ipfs.error).toBe('')
  })

  it('fails a pin of a CID nobody holds after pin_timeout, and keeps serving', async () => {
    const alpha = peers[0] as Peer
    const missing = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    await alpha.client.pin(missing, { name: 'nobody has it' })
    const failed = await waitStatus(peers, missing, 'pin_error', 30_000)
    for (const entry of failed) expect(entry.error).toContain('made no progress for 3s')
    for (const peer of peers) expect((await peer.client.id()).ipfs.error).toBe('')
  })

  it('stops every peer cleanly (exit 0)', async () => {
    for (const peer of peers) await stop(peer)
  })
})
