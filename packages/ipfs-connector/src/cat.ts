import { exporter } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import { InvalidPathError } from './errors.ts'
import type { AbortOptions, IpfsConnector } from './ipfs-connector.ts'

/**
 * Streams the bytes of the UnixFS file `cid` from a connector, block by block (`ipfs cat`):
 * what tests and benchmarks use to read content back from a node.
 */
export async function* catFile(
  connector: Pick<IpfsConnector, 'blockGet'>,
  cid: CID,
  options: AbortOptions = {},
): AsyncGenerator<Uint8Array> {
  const blockstore = {
    get: async function* (key: CID, getOptions?: AbortOptions) {
      yield await connector.blockGet(key, { signal: getOptions?.signal ?? options.signal })
    },
  }
  const entry = await exporter(cid, blockstore as never, { signal: options.signal })
  if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity') {
    throw new InvalidPathError(`${cid.toString()} is a ${entry.type}, not a file`)
  }
  for await (const chunk of entry.content({ signal: options.signal })) yield chunk as Uint8Array
}
