import { randomBytes } from 'node:crypto'
import { MemoryBlockstore } from 'blockstore-core'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import type { AddEntry, BlockWriter } from '../src/adder/added-output.ts'
import { addUnixfs } from '../src/adder/unixfs-adder.ts'
import { chunksOf, collect } from './support.ts'

const encoder = new TextEncoder()

function memoryWriter(): BlockWriter & { blocks: Map<string, Uint8Array> } {
  const blocks = new Map<string, Uint8Array>()
  return {
    blocks,
    blockPut: async (cid, bytes) => {
      blocks.set(cid.toString(), bytes)
    },
  }
}

async function* files(
  ...entries: ({ path: string; bytes: Uint8Array } | { path: string; directory: true })[]
): AsyncGenerator<AddEntry> {
  for (const entry of entries) {
    if ('directory' in entry) yield entry
    else yield { path: entry.path, content: chunksOf(entry.bytes) }
  }
}

function pseudoRandom(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  let state = seed
  for (let index = 0; index < length; index++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0
    bytes[index] = state >>> 24
  }
  return bytes
}

describe('the UnixFS adder', () => {
  // CIDs that `ipfs add` (Kubo, default parameters) prints for these inputs; widely published.
  it('gives Kubo’s CIDv0 for "hello world\\n" with the default parameters', async () => {
    const { result } = await collect(
      addUnixfs(
        files({ path: 'hello.txt', bytes: encoder.encode('hello world\n') }),
        memoryWriter(),
      ),
    )
    expect(result.toString()).toBe('QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o')
  })

  it('gives Kubo’s CID for an empty file and an empty directory', async () => {
    const empty = await collect(
      addUnixfs(files({ path: 'empty', bytes: new Uint8Array(0) }), memoryWriter()),
    )
    expect(empty.result.toString()).toBe('QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH')
    const directory = await collect(
      addUnixfs(files({ path: 'd', directory: true }), memoryWriter()),
    )
    expect(directory.result.toString()).toBe('QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn')
  })

  it('gives the raw-leaf CIDv1 of a one-chunk file with cid-version=1', async () => {
    const { result } = await collect(
      addUnixfs(files({ path: 'h', bytes: encoder.encode('hello world') }), memoryWriter(), {
        cidVersion: 1,
      }),
    )
    expect(result.toString()).toBe('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  })

  it('matches the importer run with Kubo’s layout parameters for a many-chunk file, balanced and trickle', async () => {
    const bytes = pseudoRandom(3 * 1024 * 1024 + 17, 7)
    for (const layoutName of ['balanced', 'trickle'] as const) {
      const expected = memoryWriter()
      const store = new MemoryBlockstore()
      let reference: CID | undefined
      for await (const entry of importer([{ path: 'f', content: bytes }], store, {
        cidVersion: 0,
        rawLeaves: false,
        chunker: fixedSize({ chunkSize: 262_144 }),
        layout:
          layoutName === 'trickle'
            ? trickle({ maxChildrenPerNode: 174, layerRepeat: 4 })
            : balanced({ maxChildrenPerNode: 174 }),
        profile: 'unixfs-v0-2015',
      } as Parameters<typeof importer>[2]))
        reference = entry.cid
      const { result } = await collect(
        addUnixfs(files({ path: 'f', bytes }), expected, { layout: layoutName }),
      )
      expect(result.toString()).toBe(reference?.toString())
      // Every block of the DAG went through the writer.
      expect(expected.blocks.size).toBe(1 + Math.ceil(bytes.length / 262_144))
    }
  })

  it('yields every file and directory with its cumulative size, the wrapping root last', async () => {
    const writer = memoryWriter()
    const { items, result } = await collect(
      addUnixfs(
        files(
          { path: 'dir', directory: true },
          { path: 'dir/a.txt', bytes: encoder.encode('a') },
          { path: 'dir/b.txt', bytes: encoder.encode('bb') },
        ),
        writer,
        { wrapWithDirectory: true },
      ),
    )
    expect(items.map((item) => item.name)).toEqual(['dir/a.txt', 'dir/b.txt', 'dir', ''])
    const last = items.at(-1)
    expect(last?.cid?.toString()).toBe(result.toString())
    expect(items.every((item) => (item.size ?? 0) > 0)).toBe(true)
    expect(writer.blocks.has(result.toString())).toBe(true)
  })

  it('chunks by content with a rabin chunker (different blocks, same bytes)', async () => {
    // Random bytes: a periodic pattern has no content boundaries, so every chunk is max-size.
    const bytes = randomBytes(2 * 1024 * 1024)
    const fixed = memoryWriter()
    const byContent = memoryWriter()
    const a = await collect(addUnixfs(files({ path: 'f', bytes }), fixed))
    const b = await collect(
      addUnixfs(files({ path: 'f', bytes }), byContent, { chunker: 'rabin-65536-131072-262144' }),
    )
    expect(b.result.toString()).not.toBe(a.result.toString())
    expect(byContent.blocks.size).toBeGreaterThan(fixed.blocks.size)
    expect(b.items.at(-1)?.size).toBeGreaterThan(bytes.length)
  })

  it('reports progress every 256 KiB when asked', async () => {
    const { items } = await collect(
      addUnixfs(files({ path: 'big', bytes: new Uint8Array(600 * 1024) }), memoryWriter(), {
        progress: true,
      }),
    )
    const progress = items.filter((item) => item.cid === undefined).map((item) => item.bytes)
    expect(progress).toEqual([262_144, 524_288, 614_400])
  })

  it('refuses an unknown chunker or hash with an InvalidAddInputError', async () => {
    await expect(
      collect(
        addUnixfs(files({ path: 'x', bytes: new Uint8Array(1) }), memoryWriter(), {
          chunker: 'buzhash',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAddInputError' })
    await expect(
      collect(
        addUnixfs(files({ path: 'x', bytes: new Uint8Array(1) }), memoryWriter(), {
          hash: 'sha2-512',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAddInputError' })
  })

  it('stops when the signal aborts and writes no root', async () => {
    const writer = memoryWriter()
    const controller = new AbortController()
    const bytes = new Uint8Array(2 * 1024 * 1024)
    async function* slow(): AsyncGenerator<AddEntry> {
      yield {
        path: 'f',
        content: (async function* () {
          let sent = 0
          for await (const chunk of chunksOf(bytes, 262_144)) {
            if (sent++ === 3) controller.abort()
            yield chunk
          }
        })(),
      }
    }
    await expect(
      collect(addUnixfs(slow(), writer, { signal: controller.signal })),
    ).rejects.toThrow()
    // Only leaves, never the file's root node, reached the writer.
    expect([...writer.blocks.keys()].every((key) => CID.parse(key).code === 0x70)).toBe(true)
    expect(writer.blocks.size).toBeLessThanOrEqual(4)
  })
})
