import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { addUnixfs } from '../src/adder/unixfs-adder.ts'
import { catFile } from '../src/cat.ts'
import { chunksOf, collect, startTestNode, type TestNode } from './support.ts'

const nodes: TestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.cleanup()))
})

async function node(pinTimeout?: string): Promise<TestNode> {
  const started = await startTestNode(pinTimeout)
  nodes.push(started)
  return started
}

describe('the embedded IPFS connector', () => {
  it('reports its own peer ID and loopback addresses only', async () => {
    const { connector } = await node()
    const id = await connector.id()
    expect(id.id).toMatch(/^12D3KooW/)
    expect(id.addresses.length).toBeGreaterThan(0)
    for (const address of id.addresses) expect(address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
  })

  it('pins a DAG added on another node by bitswap once connected, and reads it back whole', async () => {
    const a = await node()
    const b = await node()
    const bytes = randomBytes(1024 * 1024 + 5)
    const { result: root } = await collect(
      addUnixfs(
        (async function* () {
          yield { path: 'f', content: chunksOf(bytes) }
        })(),
        a.connector,
      ),
    )
    await b.connector.connectSwarms((await a.connector.id()).addresses)
    expect(await b.connector.swarmPeers()).toContain((await a.connector.id()).id)
    let progress = 0
    await b.connector.pin(root, { onProgress: (event) => (progress = event.blocks) })
    expect(progress).toBe(1 + Math.ceil(bytes.length / 262_144))
    expect(await b.connector.pinLsCid(root)).toBe('recursive')
    const listed = []
    for await (const entry of b.connector.pinLs()) listed.push(entry.cid.toV1().toString())
    // Helia lists pins as CIDv1; the multihash is what identifies the content.
    expect(listed).toEqual([root.toV1().toString()])
    const chunks: Uint8Array[] = []
    for await (const chunk of catFile(b.connector, root)) chunks.push(chunk)
    expect(Buffer.compare(Buffer.concat(chunks), bytes)).toBe(0)
  })

  it('fails a pin of a CID nobody holds with a PinTimeoutError after pin_timeout', async () => {
    const { connector } = await node('300ms')
    const missing = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    await expect(connector.pin(missing)).rejects.toMatchObject({ name: 'PinTimeoutError' })
    expect(await connector.pinLsCid(missing)).toBe('unpinned')
  })

  it('unpins, then garbage collection removes the blocks and reports each', async () => {
    const { connector } = await node()
    const { result: root } = await collect(
      addUnixfs(
        (async function* () {
          yield { path: 'f', content: chunksOf(randomBytes(600 * 1024)) }
        })(),
        connector,
      ),
    )
    await connector.pin(root)
    for await (const _ of connector.repoGc()) expect.unreachable('a pinned DAG was collected')
    await connector.unpin(root)
    await connector.unpin(root) // unpinning what is not pinned is not an error
    const removed: string[] = []
    for await (const entry of connector.repoGc())
      if ('cid' in entry) removed.push(entry.cid.toString())
    expect(removed).toContain(root.toString())
    expect(removed).toHaveLength(4)
    expect(await connector.blockHas(root)).toBe(false)
  })

  it('pins only the root block in direct mode', async () => {
    const a = await node()
    const b = await node()
    const { result: root } = await collect(
      addUnixfs(
        (async function* () {
          yield { path: 'f', content: chunksOf(randomBytes(600 * 1024)) }
        })(),
        a.connector,
      ),
    )
    await b.connector.connectSwarms((await a.connector.id()).addresses)
    await b.connector.pin(root, { mode: 'direct' })
    expect(await b.connector.pinLsCid(root)).toBe('direct')
    expect(await b.connector.blockHas(root)).toBe(true)
  })

  it('refuses a block whose bytes do not hash to its CID', async () => {
    const { connector } = await node()
    const cid = CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
    await expect(
      connector.blockPut(cid, new TextEncoder().encode('hello worlD')),
    ).rejects.toMatchObject({
      name: 'InvalidBlockError',
    })
    await connector.blockPut(cid, new TextEncoder().encode('hello world'))
    expect(await connector.blockHas(cid)).toBe(true)
  })

  it('resolves a path inside a directory to the CID it names', async () => {
    const { connector } = await node()
    const { items, result: root } = await collect(
      addUnixfs(
        (async function* () {
          yield { path: 'd', directory: true as const }
          yield { path: 'd/a.txt', content: chunksOf(new TextEncoder().encode('a')) }
        })(),
        connector,
        { wrapWithDirectory: true },
      ),
    )
    const file = items.find((item) => item.name === 'd/a.txt')
    expect((await connector.resolve(`/ipfs/${root.toString()}/d/a.txt`)).toString()).toBe(
      file?.cid?.toString(),
    )
    await expect(connector.resolve('/ipns/example.com')).rejects.toMatchObject({
      name: 'UnsupportedOperationError',
    })
    await expect(connector.resolve('nonsense')).rejects.toMatchObject({ name: 'InvalidPathError' })
  })
})
