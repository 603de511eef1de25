import { type Chunker, fixedSize, rabin } from 'ipfs-unixfs-importer/chunker'
import type { MultihashHasher } from 'multiformats/hashes/interface'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidAddInputError } from '../errors.ts'

/** IPFS Cluster 1.x's `IPFSAddParams` plus what the adder itself needs. */
export interface AddOptions {
  /** `size-<bytes>` (default `size-262144`), `rabin`, `rabin-<avg>` or `rabin-<min>-<avg>-<max>`. */
  readonly chunker?: string
  /** Leaves as raw blocks (default: false for CID version 0, true for 1, as Kubo). */
  readonly rawLeaves?: boolean
  readonly cidVersion?: 0 | 1
  /** `sha2-256` (the default, and the only hash the importer builds with). */
  readonly hash?: string
  readonly wrapWithDirectory?: boolean
  /** `balanced` (default, also ``) or `trickle`. */
  readonly layout?: '' | 'balanced' | 'trickle'
  /** Also yield `{ name, bytes }` progress entries every 256 KiB of a file, as 1.x does. */
  readonly progress?: boolean
  readonly signal?: AbortSignal
}

const maxChunkSize = 1024 * 1024

export function parseChunker(text: string | undefined): Chunker {
  const value = text === undefined || text === '' || text === 'default' ? 'size-262144' : text
  const size = /^size-(\d+)$/.exec(value)
  if (size !== null) {
    const chunkSize = Number(size[1])
    if (chunkSize < 1 || chunkSize > maxChunkSize) {
      throw new InvalidAddInputError(
        `chunker ${value}: the chunk size must be from 1 to ${maxChunkSize} bytes (blocks over 1 MiB do not travel over bitswap)`,
      )
    }
    return fixedSize({ chunkSize })
  }
  const rabinMatch = /^rabin(?:-(\d+))?(?:-(\d+)-(\d+))?$/.exec(value)
  if (rabinMatch !== null) {
    // go-ipfs-chunker's forms: rabin, rabin-<avg>, rabin-<min>-<avg>-<max>.
    let minChunkSize: number
    let avgChunkSize: number
    let maxSize: number
    if (rabinMatch[2] !== undefined) {
      minChunkSize = Number(rabinMatch[1])
      avgChunkSize = Number(rabinMatch[2])
      maxSize = Number(rabinMatch[3])
    } else {
      avgChunkSize = rabinMatch[1] === undefined ? 262_144 : Number(rabinMatch[1])
      minChunkSize = Math.floor(avgChunkSize / 3)
      maxSize = avgChunkSize + Math.floor(avgChunkSize / 2)
    }
    if (
      !(
        minChunkSize > 0 &&
        minChunkSize <= avgChunkSize &&
        avgChunkSize <= maxSize &&
        maxSize <= maxChunkSize
      )
    ) {
      throw new InvalidAddInputError(
        `chunker ${value}: need 0 < min <= avg <= max <= ${maxChunkSize}`,
      )
    }
    return rabin({ minChunkSize, avgChunkSize, maxChunkSize: maxSize })
  }
  throw new InvalidAddInputError(
    `chunker ${JSON.stringify(value)} is not known: use size-<bytes> (such as size-262144) or rabin-<min>-<avg>-<max>`,
  )
}

/**
 * The hash the DAG is built with. ipfs-unixfs-importer hashes every block with sha2-256 and
 * takes no other, so another name is refused rather than silently ignored.
 */
export function parseHasher(name: string | undefined): MultihashHasher {
  const value = (name ?? '').toLowerCase()
  if (value === '' || value === 'sha2-256') return sha256
  throw new InvalidAddInputError(
    `hash function ${JSON.stringify(name)} is not supported by pinraft's adder: it builds DAGs with sha2-256 only (the default); drop the hash parameter`,
  )
}
