import { CID } from 'multiformats/cid'
import { verifyBlock } from '../block-hash.ts'
import { formatDuration } from '../configuration/duration.ts'
import type { IpfsHttpConfiguration } from '../configuration/ipfshttp-configuration.ts'
import {
  IpfsRequestError,
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
import { KuboRpc } from './kubo-rpc.ts'

export interface KuboConnectorInit {
  readonly configuration: IpfsHttpConfiguration
}

/** Multicodec names Kubo's `block/put --cid-codec` takes. */
const codecNames: ReadonlyMap<number, string> = new Map([
  [0x55, 'raw'],
  [0x70, 'dag-pb'],
  [0x71, 'dag-cbor'],
  [0x0129, 'dag-json'],
  [0x0200, 'json'],
])
const hashNames: ReadonlyMap<number, string> = new Map([
  [0x12, 'sha2-256'],
  [0x13, 'sha2-512'],
  [0x00, 'identity'],
])

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function parseCidText(value: unknown, command: string): CID {
  try {
    return CID.parse(text(value))
  } catch {
    throw new IpfsRequestError(
      `Kubo's ${command} answered ${JSON.stringify(value)}, not a CID`,
      200,
    )
  }
}

/** Kubo's "not pinned" errors (pin/ls and pin/rm), which are answers rather than failures. */
function isNotPinned(error: unknown): boolean {
  return error instanceof IpfsRequestError && /not pinned/i.test(error.message)
}

/**
 * Kubo over its RPC API, as IPFS Cluster's ipfshttp connector drives it: `pin/add` with
 * progress (failing after `pin_timeout` without any), `pin/rm`, `pin/ls`, `repo/stat`,
 * `repo/gc`, `swarm/*`, `resolve` and `block/*`.
 */
export class KuboIpfsConnector implements IpfsConnector {
  readonly #configuration: IpfsHttpConfiguration
  readonly #rpc: KuboRpc

  constructor(init: KuboConnectorInit) {
    this.#configuration = init.configuration
    this.#rpc = new KuboRpc(init.configuration.nodeMultiaddress)
  }

  get url(): string {
    return this.#rpc.url
  }

  async start(): Promise<void> {
    // Nothing to open: each call is one HTTP request. Kubo may start after the daemon does.
  }

  async stop(): Promise<void> {}

  #signal(
    options: AbortOptions | undefined,
    milliseconds = this.#configuration.ipfsRequestTimeout,
  ) {
    const timeout = AbortSignal.timeout(milliseconds)
    return options?.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  }

  async id(options?: AbortOptions): Promise<IpfsId> {
    const answer = await this.#rpc.json('id', [], { signal: this.#signal(options) })
    const id = text(answer.ID)
    const addresses = Array.isArray(answer.Addresses)
      ? answer.Addresses.filter((entry): entry is string => typeof entry === 'string')
      : []
    return { id, addresses }
  }

  async pin(cid: CID, options: IpfsPinOptions = {}): Promise<void> {
    if (options.origins !== undefined && options.origins.length > 0) {
      await this.connectSwarms(options.origins, options)
    }
    const recursive = options.mode !== 'direct' && options.maxDepth !== 0
    const { pinTimeout } = this.#configuration
    const deadline = progressDeadline(
      pinTimeout,
      () =>
        new PinTimeoutError(
          `pinning ${cid.toString()} on Kubo made no progress for ${formatDuration(pinTimeout)} (ipfs_connector.ipfshttp.pin_timeout): no IPFS node Kubo can reach sent the next block. Check that a node holding the content is up and connected to Kubo (ipfs swarm peers)`,
        ),
      options.signal,
    )
    let pinned = false
    try {
      for await (const line of this.#rpc.stream(
        'pin/add',
        [
          ['arg', cid.toString()],
          ['recursive', String(recursive)],
          ['progress', 'true'],
        ],
        { signal: deadline.signal },
      )) {
        deadline.progress()
        if (typeof line.Progress === 'number') options.onProgress?.({ blocks: line.Progress })
        if (Array.isArray(line.Pins)) pinned = true
      }
    } catch (error) {
      if (deadline.signal.aborted) throw abortReason(deadline.signal)
      throw error
    } finally {
      deadline.clear()
    }
    if (!pinned) {
      throw new IpfsRequestError(
        `Kubo's pin/add of ${cid.toString()} ended without confirming the pin; check Kubo's log`,
        200,
      )
    }
  }

  async unpin(cid: CID, options: AbortOptions = {}): Promise<void> {
    if (this.#configuration.unpinDisable) {
      throw new UnsupportedOperationError(
        `unpinning from Kubo is disabled on this peer (ipfs_connector.ipfshttp.unpin_disable): ${cid.toString()} stays pinned in Kubo`,
      )
    }
    const signal = this.#signal(options, this.#configuration.unpinTimeout)
    try {
      await this.#rpc.json(
        'pin/rm',
        [
          ['arg', cid.toString()],
          ['recursive', 'true'],
        ],
        { signal },
      )
    } catch (error) {
      if (isNotPinned(error)) return
      if (signal.aborted && options.signal?.aborted !== true) {
        throw new UnpinTimeoutError(
          `unpinning ${cid.toString()} on Kubo did not finish within ${formatDuration(this.#configuration.unpinTimeout)} (ipfs_connector.ipfshttp.unpin_timeout)`,
        )
      }
      throw error
    }
  }

  async pinLsCid(cid: CID, options?: AbortOptions): Promise<IpfsPinType> {
    let answer: Record<string, unknown>
    try {
      answer = await this.#rpc.json(
        'pin/ls',
        [
          ['arg', cid.toString()],
          ['type', 'all'],
        ],
        { signal: this.#signal(options) },
      )
    } catch (error) {
      if (isNotPinned(error)) return 'unpinned'
      throw error
    }
    const keys = (answer.Keys ?? {}) as Record<string, { Type?: unknown }>
    const entry = Object.values(keys)[0]
    const type = text(entry?.Type)
    if (type === 'recursive' || type === 'direct') return type
    // Kubo writes "indirect through <cid>".
    if (type.startsWith('indirect')) return 'indirect'
    return 'unpinned'
  }

  async *pinLs(options: IpfsPinLsOptions = {}): AsyncIterable<IpfsPinEntry> {
    const type = options.type ?? 'recursive'
    for await (const line of this.#rpc.stream(
      'pin/ls',
      [
        ['type', type],
        ['stream', 'true'],
      ],
      { signal: this.#signal(options) },
    )) {
      const lineType = text(line.Type)
      if (lineType !== 'recursive' && lineType !== 'direct') continue
      yield { cid: parseCidText(line.Cid, 'pin/ls'), type: lineType }
    }
  }

  async connectSwarms(addresses: readonly string[], options?: AbortOptions): Promise<void> {
    await Promise.all(
      addresses.map((address) =>
        this.#rpc
          .json('swarm/connect', [['arg', address]], { signal: this.#signal(options) })
          .catch(() => {
            // As IPFSConnectSwarms: an address Kubo cannot dial is skipped.
          }),
      ),
    )
  }

  async swarmPeers(options?: AbortOptions): Promise<string[]> {
    const answer = await this.#rpc.json('swarm/peers', [], { signal: this.#signal(options) })
    const peers = Array.isArray(answer.Peers) ? answer.Peers : []
    return peers
      .map((entry) => text((entry as Record<string, unknown>).Peer))
      .filter((peer) => peer !== '')
  }

  async repoStat(options?: AbortOptions): Promise<IpfsRepoStat> {
    const answer = await this.#rpc.json('repo/stat', [['size-only', 'true']], {
      signal: this.#signal(options),
    })
    return {
      repoSize: typeof answer.RepoSize === 'number' ? answer.RepoSize : 0,
      storageMax: typeof answer.StorageMax === 'number' ? answer.StorageMax : 0,
    }
  }

  async *repoGc(options?: AbortOptions): AsyncIterable<IpfsRepoGcEntry> {
    for await (const line of this.#rpc.stream('repo/gc', [['stream-errors', 'true']], {
      signal: this.#signal(options, this.#configuration.repoGcTimeout),
    })) {
      if (typeof line.Error === 'string' && line.Error !== '') {
        yield { error: line.Error }
        continue
      }
      const key = line.Key as { '/'?: unknown } | undefined
      if (key !== undefined) yield { cid: parseCidText(key['/'], 'repo/gc') }
    }
  }

  async resolve(path: string, options?: AbortOptions): Promise<CID> {
    const answer = await this.#rpc.json(
      'resolve',
      [
        ['arg', path],
        ['recursive', 'true'],
      ],
      { signal: this.#signal(options) },
    )
    const resolved = text(answer.Path)
    const match = /^\/ipfs\/([^/]+)$/.exec(resolved)
    if (match === null) {
      throw new IpfsRequestError(
        `Kubo resolved ${path} to ${JSON.stringify(resolved)}, not /ipfs/<cid>`,
        200,
      )
    }
    return parseCidText(match[1], 'resolve')
  }

  async blockPut(cid: CID, bytes: Uint8Array, options: IpfsBlockPutOptions = {}): Promise<void> {
    await verifyBlock(cid, bytes)
    const codec = codecNames.get(cid.code)
    const hash = hashNames.get(cid.multihash.code)
    if (codec === undefined || hash === undefined) {
      throw new UnsupportedOperationError(
        `cannot write block ${cid.toString()} to Kubo: codec 0x${cid.code.toString(16)} or hash 0x${cid.multihash.code.toString(16)} has no name here`,
      )
    }
    const body = new FormData()
    body.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), 'block')
    const answer = await this.#rpc.json(
      'block/put',
      [
        ['cid-codec', codec],
        ['mhtype', hash],
        ['mhlen', '-1'],
        ['pin', String(options.pin === true)],
      ],
      { signal: this.#signal(options), body },
    )
    const stored = parseCidText(answer.Key, 'block/put')
    if (!equalMultihash(stored, cid)) {
      throw new IpfsRequestError(
        `Kubo stored the block as ${stored.toString()}, which is not ${cid.toString()}`,
        200,
      )
    }
  }

  async blockGet(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    return this.#rpc.bytes('block/get', [['arg', cid.toString()]], {
      signal: this.#signal(options),
    })
  }

  async blockHas(cid: CID, options?: AbortOptions): Promise<boolean> {
    try {
      await this.#rpc.json(
        'block/stat',
        [
          ['arg', cid.toString()],
          ['offline', 'true'],
        ],
        { signal: this.#signal(options) },
      )
      return true
    } catch (error) {
      if (error instanceof IpfsRequestError && /not found/i.test(error.message)) return false
      throw error
    }
  }
}

function equalMultihash(left: CID, right: CID): boolean {
  const a = left.multihash.bytes
  const b = right.multihash.bytes
  return a.length === b.length && a.every((byte, index) => byte === b[index])
}

export function createKuboConnector(init: KuboConnectorInit): KuboIpfsConnector {
  return new KuboIpfsConnector(init)
}
