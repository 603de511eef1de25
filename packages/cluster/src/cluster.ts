import type { Alert, Metric } from '@pinraft/allocation'
import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { PinInfo } from '@pinraft/pintracker'
import { type Clock, type Logger, silentLogger, systemClock } from '@pinraft/raft-core'
import { type Pin, type PinInput, parseCid } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import type {
  BandwidthSource,
  ClusterComponents,
  ClusterConsensus,
  ClusterInit,
  ClusterMonitor,
  ClusterStatusAllOptions,
  ClusterTracker,
} from './components.ts'
import { messageOf } from './error-message.ts'
import { PathResolveError, PinNotFoundError } from './errors.ts'
import type { GlobalPinInfo } from './global-pin-info.ts'
import type {
  BandwidthByProtocol,
  ClusterHealth,
  ClusterPinOptions,
  ConnectGraph,
} from './health.ts'
import { ClusterLifetime } from './lifetime.ts'
import { ClusterLinks } from './links.ts'
import { Pinning } from './pinning.ts'
import { Repinning } from './repinning.ts'
import {
  CLUSTER_PROTOCOL,
  type ClusterHost,
  handleClusterProtocol,
} from './rpc/cluster-protocol.ts'
import { StateSync } from './state-sync.ts'
import { StatusBroadcast } from './status-broadcast.ts'

/**
 * IPFS Cluster's Cluster component, in NewCluster's shape: consensus, the IPFS connector and the
 * tracker are built outside and handed in; the cluster owns the peer-to-peer RPC and turns the
 * peers' answers into GlobalPinInfo. It does not start or stop the components it was given.
 *
 * The work is done by its parts (pinning, repinning, state sync, the status broadcast, the
 * links); this class wires them, serves the protocol, and gives each call its signal.
 */
export class Cluster implements ClusterHealth {
  readonly peerId: string
  readonly peername: string
  readonly #libp2p: ClusterHost
  readonly #consensus: ClusterConsensus
  readonly #connector: IpfsConnector
  readonly #tracker: ClusterTracker
  readonly #monitor: ClusterMonitor | undefined
  readonly #bandwidth: BandwidthSource | undefined
  readonly #logger: Logger
  readonly #peerTimeout: number
  readonly #lifetime = new ClusterLifetime()
  readonly #pinning: Pinning
  readonly #repinning: Repinning
  readonly #stateSync: StateSync
  readonly #broadcast: StatusBroadcast
  readonly #links: ClusterLinks
  #started = false

  constructor(components: ClusterComponents, init: ClusterInit = {}) {
    this.peerId = components.consensus.peerId
    this.peername = init.peername ?? ''
    this.#libp2p = components.libp2p
    this.#consensus = components.consensus
    this.#connector = components.connector
    this.#tracker = components.tracker
    this.#logger = components.logger ?? silentLogger
    this.#peerTimeout = init.peerTimeout ?? 15_000
    this.#monitor = components.monitor
    this.#bandwidth = components.bandwidth
    const clock: Clock = components.clock ?? systemClock
    // The components with their defaults, shared by the parts that do the work.
    const parts = {
      libp2p: this.#libp2p,
      consensus: this.#consensus,
      connector: this.#connector,
      tracker: this.#tracker,
      monitor: this.#monitor,
      allocator: components.allocator,
      logger: this.#logger,
      clock,
      lifetime: this.#lifetime,
    }
    this.#pinning = new Pinning(parts, {
      replicationFactorMin: init.replicationFactorMin ?? -1,
      replicationFactorMax: init.replicationFactorMax ?? -1,
    })
    this.#repinning = new Repinning(parts, {
      disableRepinning: init.disableRepinning ?? true,
      repinConcurrency: Math.max(1, init.repinConcurrency ?? 32),
      leaderWaitTimeout: init.leaderWaitTimeout ?? 30_000,
    })
    this.#stateSync = new StateSync(parts, init.stateSyncInterval ?? 0)
    this.#broadcast = new StatusBroadcast(parts, {
      peername: this.peername,
      peerTimeout: this.#peerTimeout,
      frameTimeout: init.streamFrameTimeout ?? 120_000,
    })
    this.#links = new ClusterLinks(parts, {
      peername: this.peername,
      peerTimeout: this.#peerTimeout,
    })
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
        links: (options) => this.#links.local(options),
      },
      { callTimeout: this.#peerTimeout, logger: this.#logger },
    )
    this.#repinning.start()
    this.#stateSync.start()
  }

  /**
   * 1.x's StateSync: unpins every pin whose `expire_at` has passed, on the one member closest to
   * its CID (so it is unpinned once, not by every peer). Resolves with how many it unpinned.
   */
  stateSync(options?: AbortOptions): Promise<number> {
    return this.#lifetime.withSignal(options, (signal) => this.#stateSync.sync(signal))
  }

  /** Stops serving and aborts the calls in flight. */
  async stop(): Promise<void> {
    if (this.#lifetime.stopped) return
    this.#lifetime.stop()
    this.#stateSync.stop()
    this.#repinning.stop()
    if (this.#started) await this.#libp2p.unhandle(CLUSTER_PROTOCOL)
    await this.#repinning.settled()
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
    return this.#lifetime.withSignal(options, (signal) => {
      if (options.pinUpdate !== undefined) {
        const from = parseCid(options.pinUpdate)
        const to = parseCid(input.cid)
        if (!from.equals(to)) return this.#pinning.pinUpdate(from, to, input, signal)
      }
      return this.#pinning.pin(input, signal)
    })
  }

  /**
   * 1.x's PeerRemove: re-allocates the pins allocated to `peer` (it is blacklisted, so they
   * move elsewhere; skipped when `disable_repinning`), then removes it from consensus.
   */
  peerRemove(peer: string, options?: AbortOptions): Promise<void> {
    return this.#lifetime.withSignal(options, (signal) => this.#repinning.peerRemove(peer, signal))
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
    return this.#lifetime.withSignal(options, (signal) => this.#links.connectGraph(signal))
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
    await this.#lifetime.withSignal(options, (signal) =>
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
      return await this.#lifetime.withSignal(options, (signal) =>
        this.#connector.resolve(path, { signal }),
      )
    } catch (error) {
      options?.signal?.throwIfAborted()
      throw new PathResolveError(`could not resolve ${path}: ${messageOf(error)}`, {
        cause: error,
      })
    }
  }

  /** This peer's status of a CID (1.x's StatusLocal). */
  statusLocal(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    return this.#lifetime.withSignal(options, (signal) => this.#tracker.status(cid, { signal }))
  }

  /** Retries a CID on this peer (1.x's RecoverLocal). */
  recoverLocal(cid: CID, options?: AbortOptions): Promise<PinInfo> {
    return this.#lifetime.withSignal(options, (signal) => this.#tracker.recover(cid, { signal }))
  }

  statusAllLocal(options: ClusterStatusAllOptions = {}): AsyncIterable<PinInfo> {
    return this.#tracker.statusAll({
      filter: options.filter ?? null,
      signal: this.#lifetime.streamSignal(options),
    })
  }

  recoverAllLocal(options?: AbortOptions): AsyncIterable<PinInfo> {
    return this.#tracker.recoverAll({ signal: this.#lifetime.streamSignal(options) })
  }

  /** The status of a CID on every peer that should hold it (1.x's Status). */
  status(cid: CID, options?: AbortOptions): Promise<GlobalPinInfo> {
    return this.#lifetime.withSignal(options, (signal) =>
      this.#broadcast.pinInfo(cid, 'status', signal),
    )
  }

  /** Retries a CID on every peer that should hold it (1.x's Recover). */
  recover(cid: CID, options?: AbortOptions): Promise<GlobalPinInfo> {
    return this.#lifetime.withSignal(options, (signal) =>
      this.#broadcast.pinInfo(cid, 'recover', signal),
    )
  }

  /**
   * Every pin's status on every peer (1.x's StatusAll), streamed and merged a CID at a time;
   * a peer that cannot be reached is `cluster_error` for every CID from then on.
   */
  statusAll(options: ClusterStatusAllOptions = {}): AsyncGenerator<GlobalPinInfo> {
    return this.#broadcast.statusAll(options)
  }

  /** Recovers every pin on every peer (1.x's RecoverAll), streaming what each retried. */
  recoverAll(options: AbortOptions = {}): AsyncGenerator<GlobalPinInfo> {
    return this.#broadcast.recoverAll(options)
  }
}

/** Creates the Cluster component (js-libp2p's factory shape). */
export function createCluster(components: ClusterComponents, init?: ClusterInit): Cluster {
  return new Cluster(components, init)
}
