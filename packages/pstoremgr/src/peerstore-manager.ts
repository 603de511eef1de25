import {
  AbortError,
  type AbortOptions,
  type ComponentLogger,
  type Logger,
  type Peer,
  type PeerId,
  type PeerInfo,
  type PeerStore,
  type Startable,
  TypedEventEmitter,
} from '@libp2p/interface'
import { type DNS, dns as defaultDns } from '@multiformats/dns'
import { isMultiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { resolveDnsaddr } from './dnsaddr.ts'
import { DnsaddrResolutionError, PeerDialError } from './errors.ts'
import {
  ADDRESSES_KEY,
  encodeAddresses,
  encodePriority,
  PRIORITY_KEY,
  peerPriority,
  peerRememberedAddresses,
} from './peer-metadata.ts'
import {
  isDnsMultiaddr,
  type PeerMultiaddr,
  parsePeerMultiaddr,
  withoutPeerId,
  withPeerId,
} from './peer-multiaddr.ts'
import { loadPeerstoreFile, savePeerstoreFile } from './peerstore-file.ts'
import type { PeerstoreEntry } from './peerstore-format.ts'

export interface PeerstoreManagerInit {
  /**
   * The peerstore file: loaded by `start()`, saved by `savePeerstoreForPeers()` and `stop()`.
   * Without it those file operations do nothing (the peer store is still managed).
   */
  peerstorePath?: string
  /** Resolves /dnsaddr multiaddrs; defaults to @multiformats/dns with the system resolver. */
  dns?: DNS
  /** How long one dial may take, in milliseconds (default 5000). */
  dialTimeout?: number
  /** How long one /dnsaddr lookup may take, in milliseconds (default 5000). */
  dnsTimeout?: number
}

/**
 * What the manager needs to open connections. libp2p's connection manager fits as is; for a
 * libp2p node, see `componentsFromLibp2p`.
 */
export interface PeerDialer {
  /** Connects to the peer the addresses (all ending in the same /p2p/<peer-id>) name. */
  openConnection(target: Multiaddr[], options?: AbortOptions): Promise<unknown>
  /** The open connections to a peer; bootstrap counts a peer with any as connected. */
  getConnections(peerId?: PeerId): unknown[]
}

export interface PeerstoreManagerComponents {
  peerId: PeerId
  peerStore: PeerStore
  connectionManager: PeerDialer
  logger?: ComponentLogger
}

export interface PeerstoreManagerEvents {
  /** A peer failed to dial during bootstrap and now comes after every other peer. */
  'peer:demote': CustomEvent<{ peerId: PeerId; priority: number; error: Error }>
  /** A peer left the peerset: its addresses and priority were removed from the peer store. */
  'peer:forget': CustomEvent<PeerId>
  /** The peerstore file was replaced with the addresses of these peers. */
  'peerstore:save': CustomEvent<{ path: string; peers: PeerId[] }>
}

export interface ImportOptions extends AbortOptions {
  /** Dial every imported peer once it is in the peer store (default false). */
  connect?: boolean
  /**
   * Give every imported peer this priority. Without it, peers get 0, 1, 2, … in the order they
   * first appear in the list.
   */
  priority?: number
}

/** An address that could not be imported or a peer that could not be dialed, and why. */
export interface ImportFailure {
  multiaddr: string
  peerId: PeerId | undefined
  error: Error
}

export interface ImportResult {
  /** The peers now in the peer store, in priority order (our own peer ID is skipped). */
  peers: PeerId[]
  /** With `connect`, the peers a connection was opened to. */
  connected: PeerId[]
  /** /dnsaddr lookups that failed and, with `connect`, dials that failed. */
  failures: ImportFailure[]
}

export interface BootstrapResult {
  /** Peers a new connection was opened to, in the order tried. */
  connected: PeerId[]
  /** Peers that were already connected and counted towards the goal. */
  alreadyConnected: PeerId[]
  /** Peers that failed to dial, now moved last. */
  demoted: PeerId[]
}

/** The addresses gathered for one peer during an import, in first-seen order. */
interface ImportGroup {
  peerId: PeerId
  addresses: Multiaddr[]
}

const DEFAULT_DIAL_TIMEOUT = 5_000
const DEFAULT_DNS_TIMEOUT = 5_000

/**
 * Keeps the addresses of cluster peers, as IPFS Cluster's pstoremgr: imports them into the
 * libp2p peer store with a bootstrap priority, remembers only the DNS addresses of peers that
 * have some, keeps the peerstore file in step with the peerset, and bootstraps by priority.
 */
export class PeerstoreManager
  extends TypedEventEmitter<PeerstoreManagerEvents>
  implements Startable
{
  readonly #components: PeerstoreManagerComponents
  readonly #path: string | undefined
  readonly #dialTimeout: number
  readonly #dnsTimeout: number
  readonly #log: Logger
  #dns: DNS | undefined
  /** Serializes read-modify-write of peer metadata, which the peer store cannot do for us. */
  #metadataQueue: Promise<void> = Promise.resolve()
  /** Serializes peerset saves, so the file ends with the last peerset given. */
  #saveQueue: Promise<void> = Promise.resolve()
  /**
   * The addresses in the peerstore file as last loaded or saved. Only a fallback, for a peer
   * of the peerset the peer store dropped (libp2p expires peers unseen for hours).
   */
  readonly #fileAddresses = new Map<string, Multiaddr[]>()
  /** The peerset last given to `savePeerstoreForPeers`, saved again on `stop()`. */
  #peerset: PeerId[] | undefined
  #started = false

  constructor(components: PeerstoreManagerComponents, init: PeerstoreManagerInit = {}) {
    super()
    this.#components = components
    this.#path = init.peerstorePath
    this.#dns = init.dns
    this.#dialTimeout = init.dialTimeout ?? DEFAULT_DIAL_TIMEOUT
    this.#dnsTimeout = init.dnsTimeout ?? DEFAULT_DNS_TIMEOUT
    this.#log = components.logger?.forComponent('pinraft:pstoremgr') ?? silentLogger()
  }

  readonly [Symbol.toStringTag] = '@pinraft/pstoremgr'

  isStarted(): boolean {
    return this.#started
  }

  /**
   * Loads the peerstore file into the peer store, without dialing (`bootstrap()` does that).
   * Throws `InvalidMultiaddrError` for a bad line and `PeerstoreFileError` for an unreadable
   * file: starting with a peerstore we cannot read would later overwrite it.
   */
  async start(): Promise<void> {
    if (this.#started) return
    const result = await this.importPeersFromPeerstore()
    for (const failure of result.failures) {
      this.#log.error('could not import %s - %e', failure.multiaddr, failure.error)
    }
    this.#started = true
  }

  /**
   * Saves the peerstore file for the last peerset given to `savePeerstoreForPeers`, if any
   * (without one, the file is left as it is rather than guessed).
   */
  async stop(): Promise<void> {
    if (!this.#started) return
    this.#started = false
    if (this.#peerset !== undefined) await this.savePeerstoreForPeers(this.#peerset)
  }

  /** Imports one address; see `importPeers`. */
  async importPeer(
    address: string | Multiaddr | PeerMultiaddr,
    options: ImportOptions = {},
  ): Promise<ImportResult> {
    return this.importPeers([address], options)
  }

  /**
   * Adds cluster peer addresses to the peer store with a priority (the order given, lower
   * first, unless `priority` is set), resolving /dnsaddr ones and skipping our own peer ID;
   * with `connect`, dials the peers too. Every address is validated before any is imported
   * (`InvalidMultiaddrError`); lookup and dial failures are returned, not thrown.
   */
  async importPeers(
    addresses: ReadonlyArray<string | Multiaddr | PeerMultiaddr>,
    options: ImportOptions = {},
  ): Promise<ImportResult> {
    const parsed = addresses.map((address) =>
      typeof address === 'string' || isMultiaddr(address) ? parsePeerMultiaddr(address) : address,
    )
    const failures: ImportFailure[] = []
    const groups = new Map<string, ImportGroup>()
    const add = (peerId: PeerId, address: Multiaddr): void => {
      if (peerId.equals(this.#components.peerId)) return
      const key = peerId.toString()
      const group = groups.get(key) ?? { peerId, addresses: [] }
      groups.set(key, group)
      if (!group.addresses.some((known) => known.equals(address))) group.addresses.push(address)
    }

    for (const peer of parsed) {
      throwIfAborted(options.signal)
      if (peer.type === 'peer') {
        add(peer.peerId, peer.address)
        continue
      }
      const domain = withoutPeerId(peer.multiaddr)
      try {
        const resolved = await this.#resolve(peer.multiaddr, options)
        if (resolved.length === 0) {
          throw new DnsaddrResolutionError(peer.multiaddr.toString(), 'it lists no addresses')
        }
        for (const entry of resolved) {
          // Remember the domain, not only what it points to today (IPFS Cluster #381).
          add(entry.peerId, domain)
          add(entry.peerId, entry.address)
        }
      } catch (err) {
        if (options.signal?.aborted === true) throw new AbortError('the import was aborted')
        // A peer named in full is still known by its domain; libp2p resolves it when dialing.
        if (peer.peerId !== undefined) add(peer.peerId, domain)
        failures.push({
          multiaddr: peer.multiaddr.toString(),
          peerId: peer.peerId,
          error: asError(err),
        })
      }
    }

    const imported = [...groups.values()]
    for (const [index, group] of imported.entries()) {
      await this.#remember(group, options.priority ?? index, options)
    }

    const connected: PeerId[] = []
    if (options.connect === true) {
      const dials = await Promise.allSettled(
        imported.map(async (group) => {
          await this.#dial(group.peerId, options)
          return group.peerId
        }),
      )
      for (const [index, dial] of dials.entries()) {
        const group = imported[index]
        if (group === undefined) continue
        if (dial.status === 'fulfilled') {
          connected.push(dial.value)
        } else {
          const multiaddr = group.addresses[0]?.toString() ?? ''
          failures.push({ multiaddr, peerId: group.peerId, error: asError(dial.reason) })
        }
      }
      throwIfAborted(options.signal)
    }
    return { peers: imported.map((group) => group.peerId), connected, failures }
  }

  /** Reads the peerstore file (nothing without a path) and imports it; see `importPeers`. */
  async importPeersFromPeerstore(options: ImportOptions = {}): Promise<ImportResult> {
    const entries = await this.loadPeerstore(options)
    return this.importPeers(
      entries.map((entry) => entry.peer),
      options,
    )
  }

  /**
   * Reads the peerstore file; an empty list without a path or file. Throws as
   * `loadPeerstoreFile` does.
   */
  async loadPeerstore(options: AbortOptions = {}): Promise<PeerstoreEntry[]> {
    if (this.#path === undefined) return []
    const entries = await loadPeerstoreFile(this.#path, options)
    this.#fileAddresses.clear()
    for (const { peer } of entries) {
      if (peer.peerId === undefined) continue
      const address = peer.type === 'peer' ? peer.address : withoutPeerId(peer.multiaddr)
      const known = this.#fileAddresses.get(peer.peerId.toString()) ?? []
      this.#fileAddresses.set(peer.peerId.toString(), [...known, address])
    }
    return entries
  }

  /**
   * The addresses to keep for a peer, each ending in /p2p/<peer-id>: only its DNS addresses
   * when it has any (IP addresses of peers with dynamic addresses go stale), otherwise all of
   * them, sorted.
   */
  async peerAddresses(peerId: PeerId, options: AbortOptions = {}): Promise<Multiaddr[]> {
    const peer = await this.#getPeer(peerId, options)
    let known = peer === undefined ? [] : knownAddresses(peer)
    if (known.length === 0) known = this.#fileAddresses.get(peerId.toString()) ?? []
    const dnsAddresses = known.filter(isDnsMultiaddr)
    const kept = dnsAddresses.length > 0 ? dnsAddresses : known
    return kept.map((address) => withPeerId(address, peerId)).sort(byString)
  }

  /**
   * The given peers with the addresses to keep for them (see `peerAddresses`), in priority
   * order; our own peer and peers without any address are left out.
   */
  async peerInfos(peers: readonly PeerId[], options: AbortOptions = {}): Promise<PeerInfo[]> {
    const ranked: Array<{ info: PeerInfo; priority: number }> = []
    for (const peerId of peers) {
      if (peerId.equals(this.#components.peerId)) continue
      const multiaddrs = await this.peerAddresses(peerId, options)
      if (multiaddrs.length === 0) continue
      const peer = await this.#getPeer(peerId, options)
      const priority = (peer === undefined ? undefined : peerPriority(peer)) ?? Infinity
      ranked.push({ info: { id: peerId, multiaddrs }, priority })
    }
    return ranked
      .sort((a, b) => byPriority(a.priority, a.info.id, b.priority, b.info.id))
      .map(({ info }) => info)
  }

  /**
   * Records the current peerset and brings the peer store and the peerstore file in line with
   * it: peers that left it are forgotten (their addresses and priority leave the peer store),
   * peers new to it are adopted (given the last priority and their addresses remembered), and
   * the file is replaced, atomically, with the addresses of the current peers only. Call it when
   * the peerset changes; `stop()` calls it again. Calls run one after the other, so the file
   * ends with the last peerset given. Resolves once the file is on disk; throws
   * `PeerstoreFileError` otherwise.
   */
  async savePeerstoreForPeers(peers: readonly PeerId[], options: AbortOptions = {}): Promise<void> {
    this.#peerset = [...peers]
    const run = this.#saveQueue.then(() => this.#syncPeerset(peers, options))
    this.#saveQueue = run.then(
      () => {},
      () => {},
    )
    return run
  }

  async #syncPeerset(peers: readonly PeerId[], options: AbortOptions): Promise<void> {
    const current = new Set(peers.map((peerId) => peerId.toString()))
    for (const peer of await this.#clusterPeers(options)) {
      if (!current.has(peer.id.toString())) await this.forgetPeer(peer.id, options)
    }
    await this.#adopt(peers, options)
    const infos = await this.peerInfos(peers, options)
    if (this.#path === undefined) return
    await savePeerstoreFile(
      this.#path,
      infos.flatMap((info) => info.multiaddrs),
      options,
    )
    this.#fileAddresses.clear()
    for (const info of infos) {
      this.#fileAddresses.set(info.id.toString(), info.multiaddrs.map(withoutPeerId))
    }
    this.safeDispatchEvent('peerstore:save', {
      detail: { path: this.#path, peers: infos.map((info) => info.id) },
    })
  }

  /** Removes a peer's addresses and priority from the peer store (IPFS Cluster's RmPeer). */
  async forgetPeer(peerId: PeerId, options: AbortOptions = {}): Promise<void> {
    await this.#exclusive(async () => {
      const peer = await this.#getPeer(peerId, options)
      if (peer === undefined) return
      const metadata = new Map(peer.metadata)
      metadata.delete(PRIORITY_KEY)
      metadata.delete(ADDRESSES_KEY)
      await this.#components.peerStore.patch(peerId, { multiaddrs: [], metadata }, options)
    })
    this.#fileAddresses.delete(peerId.toString())
    this.safeDispatchEvent('peer:forget', { detail: peerId })
  }

  /** Sets a peer's bootstrap priority: 0 comes before 1, and so on. */
  async setPriority(peerId: PeerId, priority: number, options: AbortOptions = {}): Promise<void> {
    await this.#exclusive(async () => {
      await this.#components.peerStore.merge(
        peerId,
        { metadata: { [PRIORITY_KEY]: encodePriority(priority) } },
        options,
      )
    })
  }

  /** A peer's bootstrap priority, or undefined when it is not a peer this manager imported. */
  async getPriority(peerId: PeerId, options: AbortOptions = {}): Promise<number | undefined> {
    const peer = await this.#getPeer(peerId, options)
    return peer === undefined ? undefined : peerPriority(peer)
  }

  /**
   * Connects to cluster peers in priority order until `count` of them are connected (peers
   * already connected count). A peer that fails to dial is demoted: moved after every other
   * peer, so the next start tries the others first.
   */
  async bootstrap(count: number, options: AbortOptions = {}): Promise<BootstrapResult> {
    const result: BootstrapResult = { connected: [], alreadyConnected: [], demoted: [] }
    const peers = sortByPriority(await this.#clusterPeers(options))
    let total = 0
    for (const peer of peers) {
      if (total >= count) break
      throwIfAborted(options.signal)
      if (this.#isConnected(peer.id)) {
        result.alreadyConnected.push(peer.id)
        total++
        continue
      }
      try {
        await this.#dial(peer.id, options)
        result.connected.push(peer.id)
        total++
      } catch (err) {
        // Our own cancellation is not the peer's fault.
        if (options.signal?.aborted === true) throw new AbortError('bootstrap was aborted')
        const priority = await this.#demote(peer.id, options)
        result.demoted.push(peer.id)
        this.#log('could not connect to %p, demoted to priority %d - %e', peer.id, priority, err)
        this.safeDispatchEvent('peer:demote', {
          detail: { peerId: peer.id, priority, error: asError(err) },
        })
      }
    }
    return result
  }

  async #remember(group: ImportGroup, priority: number, options: AbortOptions): Promise<void> {
    await this.#exclusive(async () => {
      const existing = await this.#getPeer(group.peerId, options)
      const remembered = existing === undefined ? [] : peerRememberedAddresses(existing)
      for (const address of group.addresses) {
        if (!remembered.some((known) => known.equals(address))) remembered.push(address)
      }
      await this.#components.peerStore.merge(
        group.peerId,
        {
          multiaddrs: group.addresses,
          metadata: {
            [PRIORITY_KEY]: encodePriority(priority),
            [ADDRESSES_KEY]: encodeAddresses(remembered),
          },
        },
        options,
      )
    })
  }

  /**
   * Makes cluster peers of the peers of the peerset that are not yet: ones libp2p learned about
   * on its own (a peer that joined), and ones the peer store dropped but the file still lists
   * (libp2p forgets peers unseen for hours). They come after the peers already known.
   */
  async #adopt(peers: readonly PeerId[], options: AbortOptions): Promise<void> {
    for (const peerId of peers) {
      if (peerId.equals(this.#components.peerId)) continue
      const peer = await this.#getPeer(peerId, options)
      if (peer !== undefined && peerPriority(peer) !== undefined) continue
      let addresses = peer === undefined ? [] : knownAddresses(peer)
      if (addresses.length === 0) addresses = this.#fileAddresses.get(peerId.toString()) ?? []
      if (addresses.length === 0) continue
      const last = await this.#lowestPriority(options)
      await this.#remember({ peerId, addresses }, last + 1, options)
    }
  }

  async #demote(peerId: PeerId, options: AbortOptions): Promise<number> {
    const priority = (await this.#lowestPriority(options, peerId)) + 1
    await this.setPriority(peerId, priority, options)
    return priority
  }

  /** The largest priority among cluster peers other than `except`, or -1 when there are none. */
  async #lowestPriority(options: AbortOptions, except?: PeerId): Promise<number> {
    let lowest = -1
    for (const peer of await this.#clusterPeers(options)) {
      if (except?.equals(peer.id) === true) continue
      lowest = Math.max(lowest, peerPriority(peer) ?? -1)
    }
    return lowest
  }

  async #dial(peerId: PeerId, options: AbortOptions): Promise<void> {
    const signal = withTimeout(options.signal, this.#dialTimeout)
    const peer = await this.#getPeer(peerId, { signal })
    let known = peer === undefined ? [] : knownAddresses(peer)
    if (known.length === 0) known = this.#fileAddresses.get(peerId.toString()) ?? []
    const targets: Multiaddr[] = []
    for (const address of known) {
      if (!isDnsaddr(address)) {
        targets.push(withPeerId(address, peerId))
        continue
      }
      try {
        const resolved = await this.#resolve(withPeerId(address, peerId), { signal })
        targets.push(...resolved.map((entry) => entry.multiaddr))
      } catch (err) {
        this.#log('could not resolve %a for %p - %e', address, peerId, err)
      }
    }
    const unique = targets.filter(
      (target, index) => targets.findIndex((other) => other.equals(target)) === index,
    )
    if (unique.length === 0) {
      throw new PeerDialError(peerId.toString(), 'no address is known for it')
    }
    await this.#components.connectionManager.openConnection(unique, { signal })
  }

  /** Resolves a /dnsaddr into the peer addresses it lists; entries without a peer ID are dropped. */
  async #resolve(
    address: Multiaddr,
    options: AbortOptions,
  ): Promise<Array<Extract<PeerMultiaddr, { type: 'peer' }>>> {
    this.#dns ??= defaultDns()
    const signal = withTimeout(options.signal, this.#dnsTimeout)
    const resolved = await resolveDnsaddr(address, this.#dns, { signal })
    const peers: Array<Extract<PeerMultiaddr, { type: 'peer' }>> = []
    for (const entry of resolved) {
      try {
        const peer = parsePeerMultiaddr(entry)
        if (peer.type === 'peer') peers.push(peer)
      } catch (err) {
        this.#log('%a lists %a, which is not a peer address - %e', address, entry, err)
      }
    }
    return peers
  }

  #isConnected(peerId: PeerId): boolean {
    return this.#components.connectionManager.getConnections(peerId).length > 0
  }

  /** Peers this manager imported (they carry a priority), our own excluded. */
  async #clusterPeers(options: AbortOptions): Promise<Peer[]> {
    const peers = await this.#components.peerStore.all({
      filters: [(peer) => peer.metadata.has(PRIORITY_KEY)],
      signal: options.signal,
    })
    return peers.filter((peer) => !peer.id.equals(this.#components.peerId))
  }

  async #getPeer(peerId: PeerId, options: AbortOptions): Promise<Peer | undefined> {
    try {
      return await this.#components.peerStore.get(peerId, options)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined
      throw err
    }
  }

  async #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#metadataQueue.then(task)
    this.#metadataQueue = run.then(
      () => {},
      () => {},
    )
    return run
  }
}

/** What the peer store knows for a peer: the remembered addresses, then the current ones. */
function knownAddresses(peer: Peer): Multiaddr[] {
  const addresses = peerRememberedAddresses(peer)
  for (const { multiaddr } of peer.addresses) {
    const address = withoutPeerId(multiaddr)
    if (!addresses.some((known) => known.equals(address))) addresses.push(address)
  }
  return addresses
}

function sortByPriority(peers: Peer[]): Peer[] {
  return peers.sort((a, b) =>
    byPriority(peerPriority(a) ?? Infinity, a.id, peerPriority(b) ?? Infinity, b.id),
  )
}

/** Lower priority first; ties in peer ID order, so the order is the same on every run. */
function byPriority(priorityA: number, a: PeerId, priorityB: number, b: PeerId): number {
  if (priorityA !== priorityB) return priorityA < priorityB ? -1 : 1
  return byString(a, b)
}

function byString(a: { toString(): string }, b: { toString(): string }): number {
  const textA = a.toString()
  const textB = b.toString()
  return textA < textB ? -1 : textA > textB ? 1 : 0
}

function isDnsaddr(address: Multiaddr): boolean {
  return address.getComponents()[0]?.name === 'dnsaddr'
}

function withTimeout(signal: AbortSignal | undefined, milliseconds: number): AbortSignal {
  const timeout = AbortSignal.timeout(milliseconds)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError()
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

function silentLogger(): Logger {
  const log: Logger = Object.assign(() => {}, {
    error: () => {},
    trace: () => {},
    enabled: false,
    newScope: () => log,
  })
  return log
}
