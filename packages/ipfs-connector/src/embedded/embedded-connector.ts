import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { withBitswap } from '@helia/bitswap'
import type { HeliaWithLibp2p } from '@helia/libp2p'
import type { PrivateKey, ServiceMap } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FsBlockstore } from 'blockstore-fs'
import { LevelDatastore } from 'datastore-level'
import type { Helia } from 'helia'
import { walkPath } from 'ipfs-unixfs-exporter'
import { CID } from 'multiformats/cid'
import { verifyBlock } from '../block-hash.ts'
import { formatDuration } from '../configuration/duration.ts'
import type { EmbeddedConfiguration } from '../configuration/embedded-configuration.ts'
import {
  ConnectorNotStartedError,
  InvalidPathError,
  PinTimeoutError,
  UnpinTimeoutError,
  UnsupportedOperationError,
} from '../errors.ts'
import type {
  AbortOptions,
  IpfsBlockPutOptions,
  IpfsConnector,
  IpfsId,
  IpfsPinEntry,
  IpfsPinLsOptions,
  IpfsPinOptions,
  IpfsPinType,
  IpfsRepoGcEntry,
  IpfsRepoStat,
} from '../ipfs-connector.ts'
import { abortReason, progressDeadline } from '../progress-deadline.ts'
import { embeddedLibp2pOptions } from './embedded-libp2p.ts'
import { folderSize } from './folder-size.ts'
import { loadHeliaBuilders } from './helia-modules.ts'
import { prefetchDag } from './prefetch.ts'

/** Blocks fetched at once while pinning (each at most 1 MiB, 256 KiB with the default chunker). */
const prefetchConcurrency = 16

export interface EmbeddedConnectorInit {
  readonly configuration: EmbeddedConfiguration
  /** The repository folder: blocks go to `<folder>/blocks`, the datastore to `<folder>/datastore`. */
  readonly folder: string
  /** The IPFS node's key (kept beside the cluster identity, never the cluster's own key). */
  readonly privateKey: PrivateKey
}

type Node = HeliaWithLibp2p<ServiceMap> & Helia

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/** Delegated routing, loaded only when the operator turns it on (it reaches beyond the cluster). */
async function delegatedRouter(url: string) {
  const { delegatedHTTPRouting } = await import('@helia/routers')
  return delegatedHTTPRouting({ url })
}

/** Whether an error is Helia's "no such pin/block" (its errors carry a stable `name`). */
function isNotFound(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'NotFoundError'
}

/**
 * The embedded IPFS node: Helia 7 with an on-disk blockstore and datastore, bitswap, and its own
 * libp2p node (separate from the cluster's private network, as a Kubo daemon is).
 */
export class EmbeddedIpfsConnector implements IpfsConnector {
  readonly #init: EmbeddedConnectorInit
  #node: Node | undefined
  #blockstore: FsBlockstore | undefined
  #datastore: LevelDatastore | undefined

  constructor(init: EmbeddedConnectorInit) {
    this.#init = init
  }

  get blocksFolder(): string {
    return join(this.#init.folder, 'blocks')
  }

  async start(): Promise<void> {
    if (this.#node !== undefined) return
    const { configuration, folder, privateKey } = this.#init
    await mkdir(folder, { recursive: true })
    const blockstore = new FsBlockstore(this.blocksFolder)
    const datastore = new LevelDatastore(join(folder, 'datastore'))
    await blockstore.open()
    try {
      await datastore.open()
    } catch (error) {
      await blockstore.close()
      throw error
    }
    let node: Node | undefined
    try {
      const { createHeliaLight, withLibp2pLight } = await loadHeliaBuilders()
      const light = createHeliaLight({
        blockstore,
        datastore,
        routers: configuration.delegatedRouting
          ? [await delegatedRouter(configuration.delegatedRoutingUrl)]
          : [],
      })
      const libp2pOptions = await embeddedLibp2pOptions(configuration, privateKey)
      node = withBitswap(withLibp2pLight(light, libp2pOptions)) as unknown as Node
      await node.start()
    } catch (error) {
      await node?.stop().catch(() => {})
      await datastore.close().catch(() => {})
      await blockstore.close().catch(() => {})
      throw error
    }
    this.#node = node
    this.#blockstore = blockstore
    this.#datastore = datastore
    if (configuration.bootstrap.length > 0) {
      void this.connectSwarms(configuration.bootstrap, { signal: AbortSignal.timeout(30_000) })
    }
  }

  async stop(): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    this.#node = undefined
    try {
      await node.stop()
    } finally {
      await this.#datastore?.close()
      await this.#blockstore?.close()
    }
  }

  #started(): Node {
    if (this.#node === undefined) {
      throw new ConnectorNotStartedError(
        'the embedded IPFS node is not running: start the connector first',
      )
    }
    return this.#node
  }

  async id(): Promise<IpfsId> {
    const node = this.#started()
    const id = node.libp2p.peerId.toString()
    return { id, addresses: node.libp2p.getMultiaddrs().map((address) => address.toString()) }
  }

  async pin(cid: CID, options: IpfsPinOptions = {}): Promise<void> {
    const node = this.#started()
    if (options.origins !== undefined && options.origins.length > 0) {
      await this.connectSwarms(options.origins, options)
    }
    const { pinTimeout } = this.#init.configuration
    const deadline = progressDeadline(
      pinTimeout,
      () =>
        new PinTimeoutError(
          `pinning ${cid.toString()} made no progress for ${formatDuration(pinTimeout)} (ipfs_connector.embedded.pin_timeout): no connected IPFS node sent the next block. Check that a peer holding the content is up and connected (GET /id lists this node's swarm peers), or pass its address as an origin`,
        ),
      options.signal,
    )
    let blocks = 0
    try {
      if (await node.pins.isPinned(cid, { signal: deadline.signal })) {
        const existing = await node.pins.get(cid).catch(() => undefined)
        const wantedDirect = options.mode === 'direct'
        if (existing !== undefined && (existing.depth === 0) === wantedDirect) return
        if (existing !== undefined) {
          for await (const _ of node.pins.rm(cid, { signal: deadline.signal })) {
            // draining: each yielded CID is one block unpinned
          }
        }
      }
      const depth =
        options.mode === 'direct'
          ? 0
          : options.maxDepth === undefined || options.maxDepth < 0
            ? Number.POSITIVE_INFINITY
            : options.maxDepth
      if (depth > 0) {
        await prefetchDag(node.blockstore, cid, {
          maxDepth: depth,
          concurrency: prefetchConcurrency,
          signal: deadline.signal,
          onBlock: () => deadline.progress(),
        })
      }
      for await (const _ of node.pins.add(cid, {
        depth,
        signal: deadline.signal,
        onProgress: (event) => {
          if (event.type === 'blocks:get:blockstore:put' || event.type === 'helia:pin:add') {
            deadline.progress()
          }
        },
      })) {
        blocks++
        deadline.progress()
        options.onProgress?.({ blocks })
      }
    } catch (error) {
      if (deadline.signal.aborted) throw abortReason(deadline.signal)
      throw error
    } finally {
      deadline.clear()
    }
  }

  async unpin(cid: CID, options: AbortOptions = {}): Promise<void> {
    const node = this.#started()
    const { unpinTimeout } = this.#init.configuration
    const timeout = AbortSignal.timeout(unpinTimeout)
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    try {
      for await (const _ of node.pins.rm(cid, { signal })) {
        // draining
      }
    } catch (error) {
      if (isNotFound(error)) return
      if (timeout.aborted && options.signal?.aborted !== true) {
        throw new UnpinTimeoutError(
          `unpinning ${cid.toString()} did not finish within ${formatDuration(unpinTimeout)} (ipfs_connector.embedded.unpin_timeout)`,
        )
      }
      throw error
    }
  }

  async pinLsCid(cid: CID, options: AbortOptions = {}): Promise<IpfsPinType> {
    const node = this.#started()
    try {
      const pin = await node.pins.get(cid, options)
      return pin.depth === 0 ? 'direct' : 'recursive'
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
    return (await node.pins.isPinned(cid, options)) ? 'indirect' : 'unpinned'
  }

  async *pinLs(options: IpfsPinLsOptions = {}): AsyncIterable<IpfsPinEntry> {
    const node = this.#started()
    const wanted = options.type ?? 'recursive'
    for await (const pin of node.pins.ls({ signal: options.signal })) {
      const type = pin.depth === 0 ? 'direct' : 'recursive'
      if (wanted === 'all' || wanted === type) yield { cid: pin.cid, type }
    }
  }

  async connectSwarms(addresses: readonly string[], options: AbortOptions = {}): Promise<void> {
    const node = this.#started()
    const self = node.libp2p.peerId.toString()
    await Promise.all(
      addresses.map(async (address) => {
        try {
          const parsed = multiaddr(address)
          if (parsed.getComponents().some((part) => part.name === 'p2p' && part.value === self))
            return
          await node.libp2p.dial(parsed, { signal: options.signal })
        } catch {
          // IPFS Cluster's IPFSConnectSwarms skips an address it cannot dial: one down peer
          // must not keep the others from connecting.
        }
      }),
    )
  }

  async swarmPeers(): Promise<string[]> {
    return this.#started()
      .libp2p.getPeers()
      .map((peer) => peer.toString())
  }

  async repoStat(options: AbortOptions = {}): Promise<IpfsRepoStat> {
    this.#started()
    return {
      repoSize: await folderSize(this.blocksFolder, options),
      storageMax: this.#init.configuration.storageMax,
    }
  }

  async *repoGc(options: AbortOptions = {}): AsyncIterable<IpfsRepoGcEntry> {
    const node = this.#started()
    const timeout = AbortSignal.timeout(this.#init.configuration.repoGcTimeout)
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    // Helia reports removals through progress events; only CIDs are kept, never blocks.
    const entries: IpfsRepoGcEntry[] = []
    await node.gc({
      signal,
      onProgress: (event) => {
        if (event.type === 'helia:gc:deleted') entries.push({ cid: event.detail as CID })
        else if (event.type === 'helia:gc:error')
          entries.push({ error: (event.detail as Error).message })
      },
    })
    yield* entries
  }

  async resolve(path: string, options: AbortOptions = {}): Promise<CID> {
    const node = this.#started()
    const match = /^\/(ipfs|ipld|ipns)\/([^/]+)(\/.*)?$/.exec(path)
    if (match === null) {
      throw new InvalidPathError(
        `${JSON.stringify(path)} is not an IPFS path: use /ipfs/<cid>/<path> or /ipld/<cid>/<path>`,
      )
    }
    if (match[1] === 'ipns') {
      throw new UnsupportedOperationError(
        `cannot resolve ${path}: the embedded IPFS node does not resolve IPNS names; resolve it elsewhere and pin /ipfs/<cid>, or use Kubo (ipfs_connector.ipfshttp)`,
      )
    }
    let root: CID
    try {
      root = CID.parse(match[2] as string)
    } catch (error) {
      throw new InvalidPathError(
        `${JSON.stringify(path)} does not start with a CID (${(error as Error).message})`,
      )
    }
    let last: CID = root
    for await (const entry of walkPath(`${root.toString()}${match[3] ?? ''}`, node.blockstore, {
      signal: options.signal,
    })) {
      last = entry.cid
    }
    return last
  }

  async blockPut(cid: CID, bytes: Uint8Array, options: IpfsBlockPutOptions = {}): Promise<void> {
    const node = this.#started()
    await verifyBlock(cid, bytes)
    await node.blockstore.put(cid, bytes, { signal: options.signal })
    if (options.pin === true) {
      for await (const _ of node.pins.add(cid, { depth: 0, signal: options.signal })) {
        // draining
      }
    }
  }

  async blockGet(cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    const node = this.#started()
    const chunks: Uint8Array[] = []
    for await (const chunk of node.blockstore.get(cid, { signal: options.signal }))
      chunks.push(chunk)
    return concat(chunks)
  }

  async blockHas(cid: CID, options: AbortOptions = {}): Promise<boolean> {
    return this.#started().blockstore.has(cid, { signal: options.signal })
  }
}

export function createEmbeddedConnector(init: EmbeddedConnectorInit): EmbeddedIpfsConnector {
  return new EmbeddedIpfsConnector(init)
}
