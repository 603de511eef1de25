import { CarBlockIterator } from '@ipld/car/iterator'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { verifyBlock } from '../block-hash.ts'
import { InvalidAddInputError } from '../errors.ts'
import type { AddedOutput, BlockWriter } from './added-output.ts'

/**
 * Imports a CAR (1.x's `format=car`): exactly one root, every block checked against its CID and
 * written through `writer` as it is read. Yields one AddedOutput naming the root.
 */
export async function* addCar(
  name: string,
  content: AsyncIterable<Uint8Array>,
  writer: BlockWriter,
  options: { signal?: AbortSignal; wrapWithDirectory?: boolean } = {},
): AsyncGenerator<AddedOutput, CID> {
  if (options.wrapWithDirectory === true) {
    throw new InvalidAddInputError('cannot wrap a CAR file upload: drop wrap-with-directory')
  }
  let blocks: CarBlockIterator
  try {
    blocks = await CarBlockIterator.fromIterable(content)
  } catch (error) {
    throw new InvalidAddInputError(
      `the upload is not a CAR file (${(error as Error).message}); send a CARv1 or CARv2 file, or drop format=car`,
    )
  }
  const roots = await blocks.getRoots()
  if (roots.length !== 1) {
    throw new InvalidAddInputError(
      `only CAR files with a single root are supported; this one has ${roots.length}`,
    )
  }
  const root = roots[0] as CID
  let bytes = 0
  let size = 0
  const iterator = blocks[Symbol.asyncIterator]()
  while (true) {
    options.signal?.throwIfAborted()
    let next: IteratorResult<{ cid: CID; bytes: Uint8Array }>
    try {
      next = await iterator.next()
    } catch (error) {
      throw new InvalidAddInputError(
        `the CAR file is broken (${(error as Error).message}): send a whole CAR file; nothing was pinned`,
      )
    }
    if (next.done === true) break
    const block = next.value
    await verifyBlock(block.cid, block.bytes)
    bytes += block.bytes.length
    if (block.cid.equals(root) && block.cid.code === dagPb.code) size = unixfsFileSize(block.bytes)
    await writer.blockPut(block.cid, block.bytes, { signal: options.signal })
  }
  yield { name, cid: root, bytes, size }
  return root
}

/** A UnixFS root's file size, or 0 when the block is not UnixFS (1.x reports none then). */
function unixfsFileSize(bytes: Uint8Array): number {
  try {
    const node = dagPb.decode(bytes)
    return node.Data === undefined ? 0 : Number(UnixFS.unmarshal(node.Data).fileSize())
  } catch {
    return 0
  }
}
