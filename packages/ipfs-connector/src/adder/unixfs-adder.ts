import { type ImportCandidate, importer } from 'ipfs-unixfs-importer'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import type { CID } from 'multiformats/cid'
import { InvalidAddInputError } from '../errors.ts'
import { type AddOptions, parseChunker, parseHasher } from './add-options.ts'
import type { AddEntry, AddedOutput, BlockWriter } from './added-output.ts'
import { OutputQueue } from './output-queue.ts'

/** 1.x's progressReaderIncrement: a progress entry every 256 KiB read of a file. */
const progressIncrement = 256 * 1024
/** Kubo's links per node (balanced and trickle layouts). */
const maxChildrenPerNode = 174

function normalisePath(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.some((part) => part === '..')) {
    throw new InvalidAddInputError(
      `the path ${JSON.stringify(path)} climbs out of the upload with "..": send paths relative to the upload`,
    )
  }
  return parts.join('/')
}

/**
 * Builds the UnixFS DAG of `entries` with IPFS Cluster 1.x's (Kubo's) parameters, writing each
 * block through `writer` as it is made, and yields 1.x's AddedOutput entries: one per file and
 * directory (the root last), plus progress entries when asked. Memory stays bounded: files are
 * read as streams, one file at a time, and at most a few chunks are in flight.
 */
export async function* addUnixfs(
  entries: AsyncIterable<AddEntry>,
  writer: BlockWriter,
  options: AddOptions = {},
): AsyncGenerator<AddedOutput, CID> {
  parseHasher(options.hash)
  const chunker = parseChunker(options.chunker)
  const cidVersion = options.cidVersion === 1 ? 1 : 0
  const rawLeaves = options.rawLeaves ?? cidVersion === 1
  const layout =
    options.layout === 'trickle'
      ? trickle({ maxChildrenPerNode, layerRepeat: 4 })
      : balanced({ maxChildrenPerNode })
  const signal = options.signal
  const queue = new OutputQueue<AddedOutput>()

  const candidates = async function* (): AsyncGenerator<ImportCandidate> {
    for await (const entry of entries) {
      signal?.throwIfAborted()
      const path = normalisePath(entry.path)
      if ('directory' in entry) {
        yield { path }
        continue
      }
      const content = entry.content
      yield {
        path,
        content: (async function* () {
          let bytes = 0
          let reported = 0
          for await (const chunk of content) {
            signal?.throwIfAborted()
            bytes += chunk.length
            if (options.progress === true && bytes - reported >= progressIncrement) {
              reported = bytes
              queue.push({ name: path, bytes })
            }
            yield chunk
          }
          if (options.progress === true) queue.push({ name: path, bytes })
        })(),
      }
    }
  }

  const blockstore = {
    put: async (cid: CID, bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>) => {
      signal?.throwIfAborted()
      if (!(bytes instanceof Uint8Array)) {
        throw new TypeError('the importer handed a block as a stream; expected bytes')
      }
      await writer.blockPut(cid, bytes, { signal })
      return cid
    },
  }

  let root: CID | undefined
  const run = (async () => {
    for await (const result of importer(candidates(), blockstore, {
      profile: 'unixfs-v0-2015',
      cidVersion,
      rawLeaves,
      chunker,
      layout,
      wrapWithDirectory: options.wrapWithDirectory === true,
      // One file at a time: a multipart body arrives in order, and memory stays bounded.
      fileImportConcurrency: 1,
      blockWriteConcurrency: 4,
    })) {
      root = result.cid
      queue.push({ name: result.path ?? '', cid: result.cid, size: Number(result.size) })
    }
  })().then(
    () => queue.end(),
    (error: unknown) => queue.end({ error }),
  )
  try {
    yield* queue.drain()
  } finally {
    await run
  }
  if (root === undefined) {
    throw new InvalidAddInputError('nothing to add: the upload held no file and no directory')
  }
  return root
}
