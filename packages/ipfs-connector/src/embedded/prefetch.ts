import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

export interface BlockSource {
  get(cid: CID, options: { signal?: AbortSignal }): Iterable<Uint8Array> | AsyncIterable<Uint8Array>
}

/**
 * Fetches a DAG's blocks breadth-first, `concurrency` at a time, before Helia's pin walks it:
 * Helia's walker asks for one block at a time, so over bitswap every block would cost a round
 * trip. Follows dag-pb links only (UnixFS); other codecs are left to the pin's own walk. Only
 * CIDs are queued, never blocks: memory is bounded by `concurrency` blocks.
 */
export async function prefetchDag(
  source: BlockSource,
  root: CID,
  options: {
    maxDepth: number
    concurrency: number
    signal: AbortSignal
    onBlock: () => void
  },
): Promise<void> {
  const pending: { cid: CID; depth: number }[] = [{ cid: root, depth: 0 }]
  const seen = new Set<string>([root.toString()])
  let running = 0
  let failure: unknown
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failure !== undefined) return
      if (pending.length === 0 && running === 0) {
        resolve()
        return
      }
      while (running < options.concurrency && pending.length > 0) {
        const next = pending.shift() as { cid: CID; depth: number }
        running++
        void fetch(next.cid, next.depth).then(
          () => {
            running--
            pump()
          },
          (error: unknown) => {
            failure ??= error
            reject(error)
          },
        )
      }
    }
    const fetch = async (cid: CID, depth: number): Promise<void> => {
      const chunks: Uint8Array[] = []
      for await (const chunk of source.get(cid, { signal: options.signal })) chunks.push(chunk)
      options.onBlock()
      if (cid.code === raw.code || cid.code !== dagPb.code || depth >= options.maxDepth) return
      const bytes = chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks)
      for (const link of dagPb.decode(bytes).Links) {
        const key = link.Hash.toString()
        if (seen.has(key)) continue
        seen.add(key)
        pending.push({ cid: link.Hash, depth: depth + 1 })
      }
    }
    pump()
  })
}
