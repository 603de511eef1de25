import {
  BalancedAllocator,
  createDiskInformer,
  createLibp2pMetricsTransport,
  createNumpinInformer,
  createPinQueueInformer,
  createTagsInformer,
  handleMonitorProtocol,
  MONITOR_PROTOCOL,
  Monitor,
} from '@pinraft/allocation'
import {
  type BandwidthSource,
  Cluster,
  type ClusterConsensus,
  type ClusterHost,
} from '@pinraft/cluster'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import {
  type StatelessConfiguration,
  StatelessTracker,
  type TrackerConsensus,
} from '@pinraft/pintracker'
import type { AllocationConfiguration } from '../config/service-configuration.ts'
import { type Logger, libraryLogger } from '../logging/logger.ts'

/** The informers, monitor and allocator settings (`informer.*`, `monitor.pubsubmon`, …). */
export interface PinningAllocationInit {
  readonly configuration: AllocationConfiguration
  /** `cluster.monitor_ping_interval` (ms). */
  readonly monitorPingInterval: number
  /** `cluster.disable_repinning`. */
  readonly disableRepinning: boolean
  /** `cluster.replication_factor_min` / `max`: what a pin's 0 means. */
  readonly replicationFactorMin: number
  readonly replicationFactorMax: number
  /** libp2p's bandwidth per protocol, when the host measures it. */
  readonly bandwidth?: BandwidthSource
}

export interface PinningInit {
  /** The cluster's libp2p host (the one consensus uses). */
  readonly libp2p: ClusterHost
  readonly consensus: TrackerConsensus & ClusterConsensus
  /** Started already (embedded Helia or Kubo). */
  readonly connector: IpfsConnector
  readonly peername: string
  /** `pin_tracker.stateless`, parsed with `parseStatelessConfiguration`. */
  readonly stateless: StatelessConfiguration
  /** `cluster.state_sync_interval` and `cluster.pin_recover_interval`, in milliseconds. */
  readonly stateSyncInterval: number
  readonly pinRecoverInterval: number
  /** How long a peer has to answer a status call (the daemon passes consensus.raft.network_timeout). */
  readonly peerTimeout: number
  /**
   * Informers, the peer monitor over `/pinraft/monitor/1.0.0` and the balanced allocator; without
   * it pins are not allocated (everywhere) and no alert repins.
   */
  readonly allocation?: PinningAllocationInit
  readonly logger: Logger
}

export interface Pinning {
  readonly tracker: StatelessTracker
  readonly cluster: Cluster
  /** Present when `allocation` was given. */
  readonly monitor: Monitor | null
  /** The cluster component, the monitor, then the tracker (the connector is the caller's). */
  stop(): Promise<void>
}

/** Addresses other networks can reach (1.x's publicIPFSAddresses): no loopback or private IP. */
function isPublicAddress(address: string): boolean {
  const ip4 = /^\/ip4\/(\d+)\.(\d+)\./.exec(address)
  if (ip4 !== null) {
    const [a, b] = [Number(ip4[1]), Number(ip4[2])]
    return !(
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    )
  }
  const ip6 = /^\/ip6\/([^/]+)/.exec(address)
  if (ip6 !== null) {
    const host = ip6[1]!.toLowerCase()
    return !(host === '::1' || host === '::' || /^f[cd]|^fe[89ab]/.test(host))
  }
  return /^\/dns(4|6|addr)?\//.test(address)
}

/**
 * 1.x's ping value: this peer's name and IPFS node, so that the other peers can name it (and
 * reach its node) even while it does not answer. The last good value is kept while IPFS is down.
 */
function pingValueOf(init: PinningInit): (options?: { signal?: AbortSignal }) => Promise<string> {
  let last = ''
  return async (options) => {
    try {
      const id = await init.connector.id(options)
      const addresses = id.addresses.filter(isPublicAddress)
      last = JSON.stringify({
        ...(init.peername === '' ? {} : { peer_name: init.peername }),
        ...(id.id === '' ? {} : { ipfs_id: id.id }),
        ...(addresses.length === 0 ? {} : { ipfs_addresses: addresses }),
      })
    } catch {
      options?.signal?.throwIfAborted()
    }
    return last
  }
}

/** 1.x's informers (disk, numpin, pinqueue, tags) over this peer's IPFS node and tracker. */
function createInformers(
  init: PinningInit,
  configuration: AllocationConfiguration,
  tracker: StatelessTracker,
) {
  const peer = init.consensus.peerId
  return [
    createDiskInformer(
      { connector: init.connector, peer, metricTtl: configuration.disk.metricTtl },
      configuration.disk.metricType,
    ),
    createNumpinInformer({
      peer,
      metricTtl: configuration.numpin.metricTtl,
      // 1.x counts the IPFS node's recursive pins.
      countPins: async (options) => {
        let count = 0
        for await (const _ of init.connector.pinLs({ type: 'recursive', ...options })) count++
        return count
      },
    }),
    createPinQueueInformer(
      { tracker, peer, metricTtl: configuration.pinqueue.metricTtl },
      configuration.pinqueue.weightBucketSize,
    ),
    createTagsInformer({ peer, metricTtl: configuration.tags.metricTtl }, configuration.tags.tags),
  ]
}

/**
 * Builds and starts the tracker, the informers, monitor and allocator, and the cluster component
 * over consensus and the IPFS connector, in NewCluster's order: the tracker follows consensus
 * (and reconciles at once), the monitor serves `/pinraft/monitor/1.0.0`, the cluster serves
 * `/pinraft/cluster/1.0.0` and listens for alerts, then the monitor starts publishing. Call it
 * once consensus is created, before the HTTP API starts.
 */
export async function startPinning(init: PinningInit): Promise<Pinning> {
  const peerId = init.consensus.peerId
  const tracker = new StatelessTracker(
    {
      connector: init.connector,
      consensus: init.consensus,
      peerId,
      peername: init.peername,
      logger: libraryLogger(init.logger.child({ component: 'pintracker' })),
    },
    {
      configuration: init.stateless,
      stateSyncInterval: init.stateSyncInterval,
      pinRecoverInterval: init.pinRecoverInterval,
    },
  )
  await tracker.start()
  const allocation = init.allocation
  let monitor: Monitor | null = null
  let allocator: BalancedAllocator | undefined
  const stopMonitor = async (): Promise<void> => {
    if (monitor === null) return
    monitor.stop()
    await init.libp2p.unhandle(MONITOR_PROTOCOL)
  }
  let cluster: Cluster
  try {
    if (allocation !== undefined) {
      const monitorLogger = libraryLogger(init.logger.child({ component: 'monitor' }))
      const { monitor: monitorConfiguration } = allocation.configuration
      // Built before anything can fail, so the next lines can always be undone.
      allocator = new BalancedAllocator({ allocateBy: allocation.configuration.allocateBy })
      const created = new Monitor(
        {
          peerId,
          informers: createInformers(init, allocation.configuration, tracker),
          peers: (options) => init.consensus.peers(options),
          transport: createLibp2pMetricsTransport(init.libp2p, { timeout: init.peerTimeout }),
          pingValue: pingValueOf(init),
          logger: monitorLogger,
        },
        {
          pingInterval: allocation.monitorPingInterval,
          checkInterval: monitorConfiguration.checkInterval,
          failureThreshold: monitorConfiguration.failureThreshold,
        },
      )
      monitor = created
      await handleMonitorProtocol(init.libp2p, (metric) => created.receive(metric), {
        now: () => Date.now(),
        logger: monitorLogger,
        timeout: init.peerTimeout,
      })
    }
    cluster = new Cluster(
      {
        libp2p: init.libp2p,
        consensus: init.consensus,
        connector: init.connector,
        tracker,
        ...(monitor === null ? {} : { monitor }),
        ...(allocator === undefined ? {} : { allocator }),
        ...(allocation?.bandwidth === undefined ? {} : { bandwidth: allocation.bandwidth }),
        logger: libraryLogger(init.logger.child({ component: 'cluster' })),
      },
      {
        peername: init.peername,
        peerTimeout: init.peerTimeout,
        stateSyncInterval: init.stateSyncInterval,
        ...(allocation === undefined
          ? {}
          : {
              replicationFactorMin: allocation.replicationFactorMin,
              replicationFactorMax: allocation.replicationFactorMax,
              disableRepinning: allocation.disableRepinning,
            }),
      },
    )
    await cluster.start()
    // Publishing starts once the cluster listens for the alerts it raises.
    monitor?.start()
  } catch (error) {
    await stopMonitor()
    await tracker.stop()
    throw error
  }
  return {
    tracker,
    cluster,
    monitor,
    stop: async () => {
      await cluster.stop()
      await stopMonitor()
      await tracker.stop()
    },
  }
}
