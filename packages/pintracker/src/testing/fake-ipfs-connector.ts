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
} from '@pinraft/ipfs-connector'
import { type Clock, systemClock } from '@pinraft/raft-core'
import { CID } from 'multiformats/cid'

/**
 * Content that IPFS nodes of a test can fetch from one another: what one fake node holds, the
 * others can pin (a stand-in for bitswap between the embedded nodes of a cluster).
 */
export class FakeIpfsNetwork {
  readonly #holders = new Map<string, Set<FakeIpfsConnector>>()
  readonly #waiting = new Map<string, Set<() => void>>()

  /** Whether some node of the network holds the block of `cid`. */
  available(cid: CID): boolean {
    return (this.#holders.get(cid.toString())?.size ?? 0) > 0
  }

  /** @internal */
  hold(cid: CID, node: FakeIpfsConnector): void {
    const key = cid.toString()
    let holders = this.#holders.get(key)
    if (holders === undefined) {
      holders = new Set()
      this.#holders.set(key, holders)
    }
    holders.add(node)
    const waiting = this.#waiting.get(key)
    this.#waiting.delete(key)
    for (const wake of waiting ?? []) wake()
  }

  /** @internal */
  release(cid: CID, node: FakeIpfsConnector): void {
    this.#holders.get(cid.toString())?.delete(node)
  }

  /** @internal Calls `wake` once the content appears; returns a function that stops waiting. */
  wait(cid: CID, wake: () => void): () => void {
    const key = cid.toString()
    let waiting = this.#waiting.get(key)
    if (waiting === undefined) {
      waiting = new Set()
      this.#waiting.set(key, waiting)
    }
    waiting.add(wake)
    return () => waiting.delete(wake)
  }
}

export interface FakeIpfsConnectorInit {
  /** The IPFS node's peer ID (default: a fixed fake one per instance). */
  readonly id?: string
  readonly network?: FakeIpfsNetwork
  readonly clock?: Clock
  /** How long a pin of content that is available takes, in clock milliseconds (default 0). */
  readonly pinDelay?: number
  /** A pin of content nobody holds fails after this long (the connector's pin_timeout, default 2m). */
  readonly pinTimeout?: number
  /** How many entries `pinLs` yields between pauses (default 256). */
  readonly pinLsChunk?: number
}

interface PinRecord {
  readonly cid: CID
  readonly type: 'recursive' | 'direct'
}

let instances = 0

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the operation was aborted')
}

/**
 * An in-memory IpfsConnector that behaves like a real node for the tracker: pins take time
 * (`pinDelay`), wait for content that no node holds until `pinTimeout`, can be made to fail,
 * honour their AbortSignal, and `pinLs` streams. `offline` makes every call fail, as an IPFS
 * daemon that is down does.
 */
export class FakeIpfsConnector implements IpfsConnector {
  readonly network: FakeIpfsNetwork
  readonly #id: string
  readonly #clock: Clock
  readonly #pinDelay: number
  readonly #pinTimeout: number
  readonly #pinLsChunk: number
  readonly #pins = new Map<string, PinRecord>()
  readonly #blocks = new Map<string, Uint8Array>()
  readonly #failures: { match: string | null; error: Error }[] = []
  readonly #resolutions = new Map<string, CID>()
  /** Every pin and unpin call, in order (tests count attempts). */
  readonly calls: { method: 'pin' | 'unpin'; cid: string }[] = []
  /** How many times `pinLsCid` was called (one call per CID is what listing avoids). */
  pinLsCidCalls = 0
  /** When set, every call rejects with this error (an IPFS daemon that is down). */
  offline: Error | null = null
  #running = false
  #pinLsGate: Promise<void> | null = null
  #inFlight = 0
  maxInFlight = 0

  constructor(init: FakeIpfsConnectorInit = {}) {
    instances++
    this.#id = init.id ?? `12D3KooWFakeIpfsNode${String(instances).padStart(4, '0')}`
    this.network = init.network ?? new FakeIpfsNetwork()
    this.#clock = init.clock ?? systemClock
    this.#pinDelay = init.pinDelay ?? 0
    this.#pinTimeout = init.pinTimeout ?? 120_000
    this.#pinLsChunk = init.pinLsChunk ?? 256
  }

  async start(): Promise<void> {
    this.#running = true
  }

  async stop(): Promise<void> {
    this.#running = false
  }

  #check(options?: AbortOptions): void {
    options?.signal?.throwIfAborted()
    if (this.offline !== null) throw this.offline
  }

  /** Adds content to this node (as `ipfs add` would), without pinning it. */
  addContent(cid: CID, bytes: Uint8Array = new Uint8Array()): void {
    this.#blocks.set(cid.toString(), bytes)
    this.network.hold(cid, this)
  }

  /** The next pin (of `cid`, or of any CID) rejects with `error`. */
  failNextPin(error: Error, cid?: CID): void {
    this.#failures.push({ match: cid?.toString() ?? null, error })
  }

  /** Removes a pin behind the cluster's back (`ipfs pin rm` run by hand), dropping its content. */
  removePinBehindTheBack(cid: CID): void {
    this.#pins.delete(cid.toString())
    this.#blocks.delete(cid.toString())
    this.network.release(cid, this)
  }

  /** Makes `resolve(path)` answer `cid`. */
  setResolution(path: string, cid: CID): void {
    this.#resolutions.set(path, cid)
  }

  /** Whether the node pins `cid` right now. */
  isPinned(cid: CID): boolean {
    return this.#pins.has(cid.toString())
  }

  get pinCount(): number {
    return this.#pins.size
  }

  async id(options?: AbortOptions): Promise<IpfsId> {
    this.#check(options)
    return { id: this.#id, addresses: [`/ip4/127.0.0.1/tcp/4001/p2p/${this.#id}`] }
  }

  async pin(cid: CID, options: IpfsPinOptions = {}): Promise<void> {
    this.#check(options)
    const key = cid.toString()
    this.calls.push({ method: 'pin', cid: key })
    this.#inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight)
    try {
      const index = this.#failures.findIndex(
        (failure) => failure.match === null || failure.match === key,
      )
      if (index >= 0) {
        const [failure] = this.#failures.splice(index, 1)
        await this.#sleep(this.#pinDelay, options.signal)
        throw failure!.error
      }
      if (!this.#blocks.has(key) && !this.network.available(cid)) {
        await this.#waitForContent(cid, options.signal)
      }
      await this.#sleep(this.#pinDelay, options.signal)
      this.#check(options)
      this.#pins.set(key, { cid, type: options.mode === 'direct' ? 'direct' : 'recursive' })
      if (!this.#blocks.has(key)) this.#blocks.set(key, new Uint8Array())
      this.network.hold(cid, this)
    } finally {
      this.#inFlight--
    }
  }

  #waitForContent(cid: CID, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        stopWaiting()
        signal?.removeEventListener('abort', onAbort)
        reject(
          Object.assign(
            new Error(
              `pinning ${cid.toString()} timed out after ${this.#pinTimeout / 1000}s (pin_timeout): no IPFS node that holds the content could be reached`,
            ),
            { name: 'TimeoutError' },
          ),
        )
      }, this.#pinTimeout)
      const stopWaiting = this.network.wait(cid, () => {
        this.#clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
      const onAbort = () => {
        this.#clock.clearTimeout(timer)
        stopWaiting()
        reject(abortError(signal!))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  #sleep(milliseconds: number, signal?: AbortSignal): Promise<void> {
    if (milliseconds <= 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#clock.clearTimeout(timer)
        reject(abortError(signal!))
      }
      const timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, milliseconds)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  async unpin(cid: CID, options?: AbortOptions): Promise<void> {
    this.#check(options)
    this.calls.push({ method: 'unpin', cid: cid.toString() })
    this.#pins.delete(cid.toString())
  }

  async pinLsCid(cid: CID, options?: AbortOptions): Promise<IpfsPinType> {
    this.#check(options)
    this.pinLsCidCalls++
    return this.#pins.get(cid.toString())?.type ?? 'unpinned'
  }

  /** Makes `pinLs` hang (until aborted) until the returned function is called: a stuck node. */
  blockPinLs(): () => void {
    let release: () => void = () => {}
    this.#pinLsGate = new Promise<void>((resolve) => {
      release = () => {
        this.#pinLsGate = null
        resolve()
      }
    })
    return release
  }

  async *pinLs(options: IpfsPinLsOptions = {}): AsyncIterable<IpfsPinEntry> {
    this.#check(options)
    if (this.#pinLsGate !== null) {
      const signal = options.signal
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortError(signal!))
        if (signal?.aborted === true) onAbort()
        signal?.addEventListener('abort', onAbort, { once: true })
        void this.#pinLsGate?.then(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        })
      })
    }
    const type = options.type ?? 'recursive'
    let count = 0
    for (const record of [...this.#pins.values()]) {
      if (type !== 'all' && record.type !== type) continue
      yield { cid: record.cid, type: record.type }
      if (++count % this.#pinLsChunk === 0) {
        // A real node streams: let other work run between chunks.
        await new Promise((resolve) => setImmediate(resolve))
        this.#check(options)
      }
    }
  }

  async connectSwarms(_addresses: readonly string[], options?: AbortOptions): Promise<void> {
    this.#check(options)
  }

  async swarmPeers(options?: AbortOptions): Promise<string[]> {
    this.#check(options)
    return []
  }

  async repoStat(options?: AbortOptions): Promise<IpfsRepoStat> {
    this.#check(options)
    let repoSize = 0
    for (const bytes of this.#blocks.values()) repoSize += bytes.length
    return { repoSize, storageMax: 10 * 1024 * 1024 * 1024 }
  }

  async *repoGc(options?: AbortOptions): AsyncIterable<IpfsRepoGcEntry> {
    this.#check(options)
    for (const key of [...this.#blocks.keys()]) {
      if (this.#pins.has(key)) continue
      this.#blocks.delete(key)
      const cid = CID.parse(key)
      this.network.release(cid, this)
      yield { cid }
    }
  }

  async resolve(path: string, options?: AbortOptions): Promise<CID> {
    this.#check(options)
    const known = this.#resolutions.get(path)
    if (known !== undefined) return known
    const match = /^\/ipfs\/([^/]+)\/?$/.exec(path)
    if (match !== null) {
      try {
        return CID.parse(match[1]!)
      } catch {
        // falls through to the error below
      }
    }
    throw Object.assign(new Error(`could not resolve ${path}: no such path`), {
      name: 'ResolveError',
    })
  }

  async blockPut(cid: CID, bytes: Uint8Array, options?: IpfsBlockPutOptions): Promise<void> {
    this.#check(options)
    this.addContent(cid, bytes)
    if (options?.pin === true) this.#pins.set(cid.toString(), { cid, type: 'direct' })
  }

  async blockGet(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    this.#check(options)
    const bytes = this.#blocks.get(cid.toString())
    if (bytes !== undefined) return bytes
    throw new Error(`block ${cid.toString()} not found`)
  }

  async blockHas(cid: CID, options?: AbortOptions): Promise<boolean> {
    this.#check(options)
    return this.#blocks.has(cid.toString())
  }

  /** Whether `start()` was called and `stop()` was not. */
  get running(): boolean {
    return this.#running
  }
}
