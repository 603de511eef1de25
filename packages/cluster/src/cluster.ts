import {
  type Alert,
  allocate,
  type BalancedAllocator,
  type Metric,
  type Monitor,
  PING_METRIC,
  type ReallocateResult,
  reallocatePeer,
} from '@pinraft/allocation'
import type { AbortOptions, Consensus } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { PinInfo, StatelessTracker, StatusFilter } from '@pinraft/pintracker'
import { matchesFilter } from '@pinraft/pintracker'
import { type Clock, type Logger, silentLogger, systemClock } from '@pinraft/raft-core'
import { cidKey, type Pin, type PinInput, parseCid, validatePin } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import { buildConnectGraph } from './connect-graph.ts'
import {
  ClusterStoppedError,
  PathResolveError,
  PinNotFoundError,
  PinOptionsError,
} from './errors.ts'
import { addPinInfo, type GlobalPinInfo, toGlobal } from './global-pin-info.ts'
import type {
  BandwidthByProtocol,
  ClusterHealth,
  ClusterPinOptions,
  ConnectGraph,
} from './health.ts'
import { checkPinAgainst, checkReplicationFactors } from './pin-setup.ts'
import {
  CLUSTER_PROTOCOL,
  type ClusterHost,
  handleClusterProtocol,
  type PeerLinks,
  requestPeerLinks,
  requestPinInfo,
  requestPinInfoStream,
} from './rpc/cluster-protocol.ts'
import { isClosest } from './state-sync.ts'

/**
 * What the cluster needs from consensus. `rmPeer` (for `peerRemove`) and `status` (to know
 * whether this peer leads, for repinning) are optional so that tests of status alone can use a
 * smaller double; the daemon passes the real consensus.
 */
export type ClusterConsensus = Pick<
  Consensus,
  'peerId' | 'state' | 'peers' | 'logPin' | 'logUnpin'
> &
  Partial<Pick<Consensus, 'rmPeer' | 'status'>>

/** What the cluster needs from the monitor (1.x's PeerMonitor). */
export type ClusterMonitor = Pick<
  Monitor,
  'latestMetrics' | 'metricNames' | 'alerts' | 'addEventListener' | 'removeEventListener'
>

/** libp2p's traffic per protocol, where the host's metrics provide it. */
export interface BandwidthSource {
  byProtocol(): BandwidthByProtocol
}

/** What the cluster needs from the tracker (the stateless tracker has it all). */
export type ClusterTracker = Pick<
  StatelessTracker,
  'status' | 'statusAll' | 'recover' | 'recoverAll'
>

export interface ClusterComponents {
  /** The cluster's libp2p host (the one Raft uses). */
  readonly libp2p: ClusterHost
  readonly consensus: ClusterConsensus
  readonly connector: IpfsConnector
  readonly tracker: ClusterTracker
  /** 1.x's PeerMonitor: metrics to allocate with and ping alerts to repin on. */
  readonly monitor?: ClusterMonitor
  /** 1.x's PinAllocator. Without it (or the monitor) pins have no allocations (everywhere). */
  readonly allocator?: BalancedAllocator
  /** libp2p's bandwidth per protocol (`bandwidthByProtocol`), when the host measures it. */
  readonly bandwidth?: BandwidthSource
  readonly logger?: Logger
  readonly clock?: Clock
}

export interface ClusterInit {
  readonly peername?: string
  /** How long a peer has to answer for one CID (1.x: 15s). */
  readonly peerTimeout?: number
  /** How long a peer may take between two frames of a streamed answer. */
  readonly streamFrameTimeout?: number
  /** `cluster.state_sync_interval` (ms): unpin expired pins this often; 0 or unset: never. */
  readonly stateSyncInterval?: number
  /**
   * `cluster.replication_factor_min` / `max`: what a pin's 0 means (1.x's setupReplicationFactor).
   * -1 (everywhere) when unset.
   */
  readonly replicationFactorMin?: number
  readonly replicationFactorMax?: number
  /** `cluster.disable_repinning` (1.x's default: true): no re-allocation on alerts or peer removal. */
  readonly disableRepinning?: boolean
  /** How many re-allocations are committed at once when a peer is lost or removed. */
  readonly repinConcurrency?: number
  /** How long an alert waits for a leader to be known before it is dropped (ms). */
  readonly leaderWaitTimeout?: number
}

export interface ClusterStatusAllOptions extends AbortOptions {
  readonly filter?: StatusFilter
}

interface KnownPeer {
  peername: string
  ipfsPeerId: string
  ipfsPeerAddresses: readonly string[]
}

/** One peer's stream in the merge of `statusAll`: its next PinInfo, or why it stopped. */
interface Source {
  readonly peer: string
  readonly iterator: AsyncIterator<PinInfo>
  head: { info: PinInfo; order: string } | null
  failure: string | null
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * IPFS Cluster's Cluster component, in NewCluster's shape: consensus, the IPFS connector and the
 * tracker are built outside and handed in; the cluster owns the peer-to-peer RPC and turns the
 * peers' answers into GlobalPinInfo. It does not start or stop the components it was given.
 */
export class Cluster implements ClusterHealth {
  readonly peerId: string
  readonly peername: string
  readonly #libp2p: ClusterHost
  readonly #consensus: ClusterConsensus
  readonly #connector: IpfsConnector
  readonly #tracker: ClusterTracker
  readonly #monitor: ClusterMonitor | undefined
  readonly #allocator: BalancedAllocator | undefined
  readonly #bandwidth: BandwidthSource | undefined
  readonly #logger: Logger
  readonly #peerTimeout: number
  readonly #frameTimeout: number
  readonly #clock: Clock
  readonly #stateSyncInterval: number
  readonly #replicationFactorMin: number
  readonly #replicationFactorMax: number
  readonly #disableRepinning: boolean
  readonly #repinConcurrency: number
  readonly #leaderWaitTimeout: number
  /** Peers whose pins are being re-allocated: an alert repeated meanwhile is not run twice. */
  readonly #repinning = new Map<string, Promise<ReallocateResult | null>>()
  readonly #onAlert = (event: Event) => {
    void this.#handleAlert((event as CustomEvent<Alert>).detail)
  }
  #syncTimer: unknown = null
  /** What each peer said about itself last (1.x reads it from the ping metric). */
  readonly #known = new Map<string, KnownPeer>()
  #started = false
  #stopped = false
  readonly #stopping = new AbortController()

  constructor(components: ClusterComponents, init: ClusterInit = {}) {
    this.peerId = components.consensus.peerId
    this.peername = init.peername ?? ''
    this.#libp2p = components.libp2p
    this.#consensus = components.consensus
    this.#connector = components.connector
    this.#tracker = components.tracker
    this.#logger = components.logger ?? silentLogger
    this.#peerTimeout = init.peerTimeout ?? 15_000
    this.#frameTimeout = init.streamFrameTimeout ?? 120_000
    this.#clock = components.clock ?? systemClock
    this.#stateSyncInterval = init.stateSyncInterval ?? 0
    this.#monitor = components.monitor
    this.#allocator = components.allocator
    this.#bandwidth = components.bandwidth
    this.#replicationFactorMin = init.replicationFactorMin ?? -1
    this.#replicationFactorMax = init.replicationFactorMax ?? -1
    checkReplicationFactors(this.#replicationFactorMin, this.#replicationFactorMax)
    this.#disableRepinning = init.disableRepinning ?? true
    this.#repinConcurrency = Math.max(1, init.repinConcurrency ?? 32)
    this.#leaderWaitTimeout = init.leaderWaitTimeout ?? 30_000
  }

  /** Serves the cluster protocol (`/pinraft/cluster/1.0.0`). */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    await handleClusterProtocol(
      this.#libp2p,
      {
        status: (cid, options) => this.#tracker.status(cid, options),
        recover: (cid, options) => this.#tracker.recover(cid, options),
        statusAll: (filter, options) => this.#tracker.statusAll({ filter, signal: options.signal }),
        recoverAll: (options) => this.#tracker.recoverAll(options),
        links: (options) => this.#localLinks(options),
      },
      { callTimeout: this.#peerTimeout, logger: this.#logger },
    )
    this.#monitor?.addEventListener('alert:raised', this.#onAlert)
    this.#scheduleStateSync()
  }

  #scheduleStateSync(): void {
    if (this.#stopped || this.#stateSyncInterval <= 0) return
    this.#syncTimer = this.#clock.setTimeout(() => {
      this.#syncTimer = null
      void this.stateSync()
        .catch((error: unknown) => {
          if (!this.#stopped) this.#logger.warn('state sync failed', { error: messageOf(error) })
        })
        .finally(() => this.#scheduleStateSync())
    }, this.#stateSyncInterval)
  }

  /**
   * 1.x's StateSync: unpins every pin whose `expire_at` has passed, on the one member closest to
   * its CID (so it is unpinned once, not by every peer). Resolves with how many it unpinned.
   */
  stateSync(options?: AbortOptions): Promise<number> {
    return this.#withSignal(options, (signal) => this.#stateSync(signal))
  }

  async #stateSync(signal: AbortSignal): Promise<number> {
    const members = await this.#consensus.peers({ signal })
    const now = this.#clock.now()
    let unpinned = 0
    for await (const pin of this.#consensus.state().list({ signal })) {
      if (pin.expireAt === null || pin.expireAt >= now) continue
      if (!isClosest(pin.cid, this.peerId, members)) continue
      this.#logger.info('unpinning an expired pin', {
        cid: pin.cid.toString(),
        expiredAt: new Date(pin.expireAt).toISOString(),
      })
      try {
        await this.#consensus.logUnpin(pin.cid.toString(), { signal })
        unpinned++
      } catch (error) {
        signal.throwIfAborted()
        this.#logger.error('could not unpin an expired pin', {
          cid: pin.cid.toString(),
          error: messageOf(error),
        })
      }
    }
    return unpinned
  }

  /** Stops serving and aborts the calls in flight. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#stopping.abort(new ClusterStoppedError())
    if (this.#syncTimer !== null) this.#clock.clearTimeout(this.#syncTimer)
    this.#monitor?.removeEventListener('alert:raised', this.#onAlert)
    if (this.#started) await this.#libp2p.unhandle(CLUSTER_PROTOCOL)
    await Promise.allSettled([...this.#repinning.values()])
  }

  /**
   * The signal for what outlives the call that starts it (an async iterable): it follows the
   * caller's signal and the cluster's stop through `AbortSignal.any`, which lets go of it with
   * them. A call that settles uses `#withSignal`.
   */
  #streamSignal(options?: AbortOptions): AbortSignal {
    if (this.#stopped) throw new ClusterStoppedError()
    return options?.signal === undefined
      ? this.#stopping.signal
      : AbortSignal.any([options.signal, this.#stopping.signal])
  }

  /**
   * Replicates a pin (1.x's Cluster.Pin): factors of 0 take the cluster's defaults and are
   * checked with 1.x's rules; the allocations are computed here from the monitor's metrics
   * (user allocations first, current ones kept on a re-pin; -1/-1 is everywhere, no
   * allocations), stored in the pin, then committed. When fewer peers than
   * `replication_factor_min` can take it, `AllocationError` and nothing is committed. With
   * `pinUpdate`, the new CID takes the old pin's options instead (1.x's PinUpdate).
   */
  async pin(input: PinInput, options: ClusterPinOptions = {}): Promise<Pin> {
    return this.#withSignal(options, (signal) => {
      if (options.pinUpdate !== undefined) {
        const from = parseCid(options.pinUpdate)
        const to = parseCid(input.cid)
        if (!from.equals(to)) return this.#pinUpdate(from, to, input, signal)
      }
      return this.#pin(input, signal)
    })
  }

  /**
   * Runs `body` with a signal that follows the caller's signal and the cluster's stop: one
   * controller and two listeners, removed once `body` settles. `AbortSignal.any`'s weak
   * references cost more per pin than the rest of the call's signal handling put together.
   */
  async #withSignal<T>(
    options: AbortOptions | undefined,
    body: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.#stopped) throw new ClusterStoppedError()
    const outer = options?.signal
    if (outer === undefined) return body(this.#stopping.signal)
    outer.throwIfAborted()
    const controller = new AbortController()
    const stopping = this.#stopping.signal
    const onOuter = () => controller.abort(outer.reason)
    const onStopping = () => controller.abort(stopping.reason)
    outer.addEventListener('abort', onOuter, { once: true })
    stopping.addEventListener('abort', onStopping, { once: true })
    try {
      return await body(controller.signal)
    } finally {
      outer.removeEventListener('abort', onOuter)
      stopping.removeEventListener('abort', onStopping)
    }
  }

  /** 1.x's Cluster.pin: setupPin, then allocate unless allocations were given. */
  async #pin(input: PinInput, signal: AbortSignal): Promise<Pin> {
    const min = input.replicationFactorMin ?? 0
    const max = input.replicationFactorMax ?? 0
    const replicationFactorMin = min === 0 ? this.#replicationFactorMin : min
    const replicationFactorMax = max === 0 ? this.#replicationFactorMax : max
    checkReplicationFactors(replicationFactorMin, replicationFactorMax)
    const now = this.#clock.now()
    const everywhere = replicationFactorMin === -1 && replicationFactorMax === -1
    const pin = validatePin({
      ...input,
      replicationFactorMin,
      replicationFactorMax,
      // Pinning everywhere drops allocations given with the pin (1.x, #1319).
      allocations: everywhere ? [] : input.allocations,
      // Not an option: when the cluster received it (1.x).
      timestamp: now,
    })
    const existing = this.#consensus.state().get(pin.cid)
    checkPinAgainst(pin, existing, now)
    if (pin.type === 'meta-pin' || pin.allocations.length > 0 || everywhere) {
      return this.#consensus.logPin(pin, { signal })
    }
    const allocations = this.#allocate(pin, existing)
    // Debug only: a line per pin is noise under load.
    this.#logger.debug('pinning', { cid: pin.cid.toString(), allocations })
    return this.#consensus.logPin({ ...pin, allocations }, { signal })
  }

  /** 1.x's Cluster.allocate; no allocator or monitor: no allocations (everywhere). */
  #allocate(pin: Pin, existing: Pin | undefined): string[] {
    if (this.#monitor === undefined || this.#allocator === undefined) return []
    return allocate(this.#monitor, this.#allocator, {
      current: existing?.allocations ?? [],
      replicationFactorMin: pin.replicationFactorMin,
      replicationFactorMax: pin.replicationFactorMax,
      priority: pin.userAllocations,
    })
  }

  /**
   * 1.x's PinUpdate: the pin of `from` with its CID replaced by `to`, its allocations and
   * options kept (no allocation), a new name or a later expiry taken from `input`. As in 1.x,
   * the pin of `from` stays: `unpin` it to remove it.
   */
  async #pinUpdate(from: CID, to: CID, input: PinInput, signal: AbortSignal): Promise<Pin> {
    const existing = this.#consensus.state().get(from)
    if (existing === undefined)
      throw new PinNotFoundError(
        `not found: pin-update names ${from.toString()}, which is not pinned in the cluster`,
      )
    if (existing.type !== 'pin') throw new PinOptionsError('this pin type cannot be updated')
    const now = this.#clock.now()
    const given = validatePin({ cid: to, name: input.name, expireAt: input.expireAt ?? null })
    const updated: PinInput = {
      ...existing,
      cid: to,
      timestamp: now,
      name: given.name !== '' ? given.name : existing.name,
      expireAt:
        given.expireAt !== null && given.expireAt > now ? given.expireAt : existing.expireAt,
    }
    this.#logger.debug('pin update', {
      from: from.toString(),
      to: to.toString(),
      allocations: existing.allocations,
    })
    return this.#consensus.logPin(updated, { signal })
  }

  /**
   * 1.x's PeerRemove: re-allocates the pins allocated to `peer` (it is blacklisted, so they
   * move elsewhere; skipped when `disable_repinning`), then removes it from consensus.
   */
  peerRemove(peer: string, options?: AbortOptions): Promise<void> {
    return this.#withSignal(options, (signal) => this.#peerRemove(peer, signal))
  }

  async #peerRemove(peer: string, signal: AbortSignal): Promise<void> {
    if (this.#consensus.rmPeer === undefined)
      throw new TypeError('this cluster was built without consensus.rmPeer: it cannot remove peers')
    if (this.#disableRepinning) {
      this.#logger.warn(
        'repinning is disabled (cluster.disable_repinning): pins stay allocated to the removed peer',
        { peer },
      )
    } else {
      await this.#reallocate(peer, false, signal)
    }
    await this.#consensus.rmPeer(peer, { signal })
    this.#logger.info('peer removed', { peer })
  }

  async #reallocate(
    peer: string,
    onlyBelowMin: boolean,
    signal: AbortSignal,
  ): Promise<ReallocateResult | null> {
    if (this.#monitor === undefined || this.#allocator === undefined) return null
    const started = this.#clock.now()
    this.#logger.info('re-allocating the pins allocated to a peer', { peer, onlyBelowMin })
    const result = await reallocatePeer(
      {
        consensus: this.#consensus,
        metrics: this.#monitor,
        allocator: this.#allocator,
        logger: this.#logger,
        now: () => this.#clock.now(),
      },
      peer,
      { onlyBelowMin, concurrency: this.#repinConcurrency, signal },
    )
    this.#logger.info('re-allocated the pins of a peer', {
      peer,
      moved: result.moved,
      failed: result.failed,
      milliseconds: this.#clock.now() - started,
    })
    return result
  }

  /**
   * 1.x's alertsHandler: a ping alert means the peer is gone, so the pins allocated to it
   * whose `replication_factor_min` no longer holds are re-allocated. Only the leader does it, so
   * the work is done once; a peer that cannot tell who leads waits for a leader (bounded).
   */
  async #handleAlert(alert: Alert): Promise<void> {
    const peer = alert.metric.peer
    this.#logger.warn('metric alert', { metric: alert.metric.name, peer })
    if (alert.metric.name !== PING_METRIC || this.#stopped) return
    if (this.#disableRepinning) {
      this.#logger.debug('repinning is disabled: not re-allocating on alerts', { peer })
      return
    }
    if (this.#repinning.has(peer)) return
    const run = (async () => {
      if (!(await this.#isLeader(peer))) {
        this.#logger.debug('not the leader: the leader re-allocates the pins of a lost peer', {
          peer,
        })
        return null
      }
      return this.#reallocate(peer, true, this.#stopping.signal)
    })()
    this.#repinning.set(peer, run)
    try {
      await run
    } catch (error) {
      if (!this.#stopped)
        this.#logger.error('re-allocation after an alert failed', { peer, error: messageOf(error) })
    } finally {
      this.#repinning.delete(peer)
    }
  }

  /**
   * Whether this peer leads. While no leader is known, or the leader known is the lost peer
   * itself (the others have not elected a new one yet), waits for one (bounded): otherwise a
   * dead leader's pins would be left to nobody.
   */
  async #isLeader(lost: string): Promise<boolean> {
    const status = this.#consensus.status
    if (status === undefined) return false
    const deadline = Date.now() + this.#leaderWaitTimeout
    for (;;) {
      const leader = status.call(this.#consensus).leader
      if (leader !== null && leader !== lost) return leader === this.peerId
      if (this.#stopped || Date.now() >= deadline) return false
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** The metric names this peer's monitor knows (1.x's PeerMonitorMetricNames). */
  async metricNames(_options?: AbortOptions): Promise<string[]> {
    return this.#monitor?.metricNames() ?? []
  }

  /** The latest valid metric of `name` from every peer (1.x's PeerMonitorLatestMetrics). */
  async latestMetrics(name: string, _options?: AbortOptions): Promise<Metric[]> {
    return this.#monitor?.latestMetrics(name) ?? []
  }

  /** The alerts this peer's monitor raised recently, the most recent first (1.x's Alerts). */
  async alerts(_options?: AbortOptions): Promise<Alert[]> {
    return [...(this.#monitor?.alerts() ?? [])].reverse()
  }

  /** 1.x's ConnectGraph: every member is asked for its links; one that cannot be has none. */
  connectGraph(options?: AbortOptions): Promise<ConnectGraph> {
    return this.#withSignal(options, (signal) => this.#connectGraph(signal))
  }

  async #connectGraph(signal: AbortSignal): Promise<ConnectGraph> {
    const members = await this.#consensus.peers({ signal })
    return buildConnectGraph(
      this.peerId,
      members,
      (peer) =>
        peer === this.peerId
          ? this.#localLinks({ signal })
          : requestPeerLinks(this.#libp2p, peer, {
              signal: AbortSignal.any([signal, AbortSignal.timeout(this.#peerTimeout)]),
            }),
      (peer, error) =>
        this.#logger.debug('could not ask a peer for its links', {
          peer,
          error: messageOf(error),
        }),
    )
  }

  /** This peer's links: the members its host is connected to, and its IPFS node's peers. */
  async #localLinks(options: AbortOptions): Promise<PeerLinks> {
    const members = new Set(await this.#consensus.peers(options))
    const connected = new Set(
      this.#libp2p.getConnections().map((connection) => connection.remotePeer.toString()),
    )
    const clusterPeers = [...connected].filter((peer) => peer !== this.peerId && members.has(peer))
    try {
      const id = await this.#connector.id(options)
      const ipfsPeers = await this.#connector.swarmPeers(options)
      return { peername: this.peername, clusterPeers, ipfsId: id.id, ipfsPeers, ipfsError: '' }
    } catch (error) {
      options.signal?.throwIfAborted()
      return {
        peername: this.peername,
        clusterPeers,
        ipfsId: '',
        ipfsPeers: [],
        ipfsError: messageOf(error) || 'the IPFS node did not answer',
      }
    }
  }

  /**
   * This peer's libp2p traffic per protocol (1.x's BandwidthByProtocol), from the host's
   * metrics; empty when the host measures none.
   */
  async bandwidthByProtocol(_options?: AbortOptions): Promise<BandwidthByProtocol> {
    return this.#bandwidth?.byProtocol() ?? {}
  }

  /** Unpins a CID of the pinset; `PinNotFoundError` when it is not in it. */
  async unpin(cid: CID | string, options?: AbortOptions): Promise<Pin> {
    const parsed = parseCid(cid)
    const pin = this.#consensus.state().get(parsed)
    if (pin === undefined) {
      throw new PinNotFoundError(`not found: ${parsed.toString()} is not pinned in the cluster`)
    }
    await this.#withSignal(options, (signal) =>
      this.#consensus.logUnpin(parsed.toString(), { signal }),
    )
    return pin
  }

  /** Resolves an IPFS path through the connector, then pins its CID (1.x's PinPath). */
  async pinPath(
    path: string,
    input: Omit<PinInput, 'cid'>,
    options?: ClusterPinOptions,
  ): Promise<Pin> {
    const cid = await this.#resolve(path, options)
    return this.pin({ ...input, cid }, options)
  }

  /** Resolves an IPFS path, then unpins its CID (1.x's UnpinPath). */
  async unpinPath(path: string, options?: AbortOptions): Promise<Pin> {
    return this.unpin(await this.#resolve(path, options), options)
  }

  async #resolve(path: string, options?: AbortOptions): Promise<CID> {
    try {
      return await this.#withSignal(options, (signal) => this.#connector.resolve(path, { signal }))
    } catch (error) {
      options?.signal?.throwIfAborted()
      throw new PathResolveError(`could not resolve ${path}: ${messageOf(error)}`, {
        cause: error,
      })
    }
  }

  /** This peer's status of a CID (1.x's StatusLocal). */
  statusLocal(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    return this.#withSignal(options, (signal) => this.#tracker.status(cid, { signal }))
  }

  /** Retries a CID on this peer (1.x's RecoverLocal). */
  recoverLocal(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    return this.#withSignal(options, (signal) => this.#tracker.recover(cid, { signal }))
  }

  statusAllLocal(options: ClusterStatusAllOptions = {}): AsyncIterable<PinInfo> {
    return this.#tracker.statusAll({
      filter: options.filter ?? null,
      signal: this.#streamSignal(options),
    })
  }

  recoverAllLocal(options?: AbortOptions): AsyncIterable<PinInfo> {
    return this.#tracker.recoverAll({ signal: this.#streamSignal(options) })
  }

  /** The status of a CID on every peer that should hold it (1.x's Status). */
  status(cid: CID, options?: AbortOptions): Promise<GlobalPinInfo> {
    return this.#globalPinInfo(cid, 'status', options)
  }

  /** Retries a CID on every peer that should hold it (1.x's Recover). */
  recover(cid: CID, options?: AbortOptions): Promise<GlobalPinInfo> {
    return this.#globalPinInfo(cid, 'recover', options)
  }

  /**
   * Every pin's status on every peer (1.x's StatusAll), streamed: each peer streams its
   * statuses in the pinset's CID order and the streams are merged a CID at a time, so memory
   * stays bounded by the number of peers, not of pins. A peer that cannot be reached, or whose
   * stream breaks, is `cluster_error` with the reason for every CID from then on.
   */
  statusAll(options: ClusterStatusAllOptions = {}): AsyncGenerator<GlobalPinInfo> {
    const filter = options.filter ?? null
    return this.#merged(
      (peer, signal) =>
        peer === this.peerId
          ? this.#tracker.statusAll({ filter, signal })
          : requestPinInfoStream(
              this.#libp2p,
              peer,
              { kind: 'status-all', filter },
              { signal, frameTimeout: this.#frameTimeout },
            ),
      options,
    )
  }

  /** Recovers every pin on every peer (1.x's RecoverAll), streaming what each retried. */
  recoverAll(options: AbortOptions = {}): AsyncGenerator<GlobalPinInfo> {
    return this.#merged(
      (peer, signal) =>
        peer === this.peerId
          ? this.#tracker.recoverAll({ signal })
          : requestPinInfoStream(
              this.#libp2p,
              peer,
              { kind: 'recover-all' },
              { signal, frameTimeout: this.#frameTimeout },
            ),
      options,
    )
  }

  #remember(info: PinInfo): void {
    if (info.status === 'cluster_error' && info.ipfsPeerId === '') return
    this.#known.set(info.peer, {
      peername: info.peername,
      ipfsPeerId: info.ipfsPeerId,
      ipfsPeerAddresses: info.ipfsPeerAddresses,
    })
  }

  /** 1.x's setTrackerStatus / the error entries of globalPinInfoCid. */
  #entry(
    pin: Pin,
    peer: string,
    status: PinInfo['status'],
    timestamp: number,
    error = '',
  ): PinInfo {
    const known = peer === this.peerId ? undefined : this.#known.get(peer)
    return {
      cid: pin.cid,
      name: pin.name,
      peer,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peername: peer === this.peerId ? this.peername : (known?.peername ?? ''),
      ipfsPeerId: known?.ipfsPeerId ?? '',
      ipfsPeerAddresses: known?.ipfsPeerAddresses ?? [],
      status,
      timestamp,
      error,
      attemptCount: 0,
      priorityPin: false,
    }
  }

  #globalPinInfo(
    cid: CID,
    method: 'status' | 'recover',
    options?: AbortOptions,
  ): Promise<GlobalPinInfo> {
    return this.#withSignal(options, (signal) => this.#gatherPinInfo(cid, method, signal))
  }

  async #gatherPinInfo(
    cid: CID,
    method: 'status' | 'recover',
    signal: AbortSignal,
  ): Promise<GlobalPinInfo> {
    const members = await this.#consensus.peers({ signal })
    const now = Date.now()
    const pin = this.#consensus.state().get(cid)
    if (pin === undefined) {
      // Not in the pinset: every member is unpinned, without asking (1.x).
      const absent = validatePin({ cid })
      const global = toGlobal(this.#entry(absent, members[0] ?? this.peerId, 'unpinned', now))
      for (const peer of members.slice(1))
        addPinInfo(global, this.#entry(absent, peer, 'unpinned', now))
      return global
    }
    const everywhere =
      pin.replicationFactorMin < 0 || pin.replicationFactorMax < 0 || pin.allocations.length === 0
    const destinations = everywhere ? members : [...pin.allocations]
    const remote = everywhere ? [] : members.filter((peer) => !pin.allocations.includes(peer))
    const global: GlobalPinInfo = {
      cid: pin.cid,
      name: pin.name,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peerMap: new Map(),
    }
    for (const peer of remote) addPinInfo(global, this.#entry(pin, peer, 'remote', now))
    const answers = await Promise.all(
      destinations.map(async (peer): Promise<PinInfo> => {
        try {
          if (peer === this.peerId) {
            return method === 'status'
              ? await this.#tracker.status(pin.cid, { signal })
              : await this.#tracker.recover(pin.cid, { signal })
          }
          const info = await requestPinInfo(this.#libp2p, peer, method, pin.cid, {
            signal: AbortSignal.any([signal, AbortSignal.timeout(this.#peerTimeout)]),
          })
          this.#remember(info)
          return info
        } catch (error) {
          signal.throwIfAborted()
          this.#logger.warn('error in broadcast response', { peer, error: messageOf(error) })
          return this.#entry(pin, peer, 'cluster_error', Date.now(), messageOf(error))
        }
      }),
    )
    for (const info of answers) addPinInfo(global, info)
    return global
  }

  async *#merged(
    open: (peer: string, signal: AbortSignal) => AsyncIterable<PinInfo>,
    options: AbortOptions,
  ): AsyncGenerator<GlobalPinInfo> {
    const outer = this.#streamSignal(options)
    const controller = new AbortController()
    const signal = AbortSignal.any([outer, controller.signal])
    const members = await this.#consensus.peers({ signal })
    const sources: Source[] = members.map((peer) => ({
      peer,
      iterator: open(peer, signal)[Symbol.asyncIterator](),
      head: null,
      failure: null,
    }))
    const advance = async (source: Source): Promise<void> => {
      try {
        const next = await source.iterator.next()
        source.head =
          next.done === true ? null : { info: next.value, order: cidKey(next.value.cid) }
        if (source.head !== null && source.peer !== this.peerId) this.#remember(source.head.info)
      } catch (error) {
        source.head = null
        if (outer.aborted) throw error
        source.failure = messageOf(error)
        this.#logger.warn('error in broadcast response', {
          peer: source.peer,
          error: source.failure,
        })
      }
    }
    try {
      await Promise.all(sources.map(advance))
      let produced = 0
      for (;;) {
        let order: string | null = null
        for (const source of sources) {
          if (source.head !== null && (order === null || source.head.order < order)) {
            order = source.head.order
          }
        }
        if (order === null) break
        const current = sources.filter((source) => source.head?.order === order)
        const first = current[0]!.head!.info
        const global = toGlobal(first)
        for (const source of current.slice(1)) addPinInfo(global, source.head!.info)
        const now = Date.now()
        for (const source of sources) {
          if (source.failure === null) continue
          // 1.x: an errored peer gets a cluster_error entry for every CID, pin fields unset.
          const entry = this.#entry(
            validatePin({ cid: first.cid }),
            source.peer,
            'cluster_error',
            now,
            source.failure,
          )
          addPinInfo(global, { ...entry, name: '', created: null })
        }
        await Promise.all(current.map(advance))
        produced++
        yield global
      }
      const failed = sources.filter((source) => source.failure !== null)
      if (produced === 0 && failed.length === sources.length && failed.length > 0) {
        // Nobody answered: an error, not an empty list.
        throw new Error(failed.map((source) => `${source.peer}: ${source.failure}`).join('; '))
      }
    } finally {
      controller.abort()
      await Promise.allSettled(sources.map((source) => source.iterator.return?.()))
    }
  }
}

/** Whether a GlobalPinInfo has a peer in one of the filter's statuses (1.x's Match). */
export function globalMatches(global: GlobalPinInfo, filter: StatusFilter): boolean {
  for (const entry of global.peerMap.values()) if (matchesFilter(entry.status, filter)) return true
  return false
}

/** Creates the Cluster component (js-libp2p's factory shape). */
export function createCluster(components: ClusterComponents, init?: ClusterInit): Cluster {
  return new Cluster(components, init)
}
