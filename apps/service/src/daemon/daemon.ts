import { peerIdFromString } from '@libp2p/peer-id'
import { backupAndClean, type Consensus, createConsensus } from '@pinraft/consensus'
import { loadIdentity } from '../config/identity.ts'
import {
  loadServiceConfiguration,
  type ServiceConfiguration,
} from '../config/service-configuration.ts'
import { AddressInUseError } from '../errors.ts'
import type { ApiContext } from '../http/api-context.ts'
import { LastErrorRecorder } from '../http/last-error.ts'
import { createPeerMetrics } from '../http/metrics.ts'
import { type ApiServer, startApiServer } from '../http/server.ts'
import { type Logger, libraryLogger } from '../logging/logger.ts'
import { serviceVersion } from '../version.ts'
import { BandwidthMeter } from './bandwidth-meter.ts'
import { createIpfsConnector, ipfsIdJson } from './ipfs-node.ts'
import { startIpfsServices } from './ipfs-services.ts'
import { join, parseBootstrap } from './join.ts'
import { createServiceLibp2p, type ServiceLibp2p } from './libp2p-node.ts'
import { type FolderLock, lockFolder } from './lock-file.ts'
import { followPeerset } from './peerset-following.ts'
import { startPinning } from './pinning.ts'
import { serviceHandlers } from './service-handlers.ts'
import { handleServiceProtocol, requestId, requestRaftStatus } from './service-protocol.ts'
import { watchTransport } from './transport-watch.ts'

export interface DaemonOptions {
  readonly folder: string
  /** `--bootstrap`: join the cluster of one of these peers (multiaddresses with `/p2p/<id>`). */
  readonly bootstrap: readonly string[]
  /** `--leave`: leave the cluster on shutdown (sets consensus.raft.leave_on_shutdown). */
  readonly leave: boolean
  /** How long joining may take, added and caught up. */
  readonly joinTimeout: number
  /**
   * Start a new cluster even though this peer's Raft state or backups show it was in one
   * (consensus refuses otherwise with `RemovedFromClusterError`).
   */
  readonly newCluster?: boolean
  readonly environment: NodeJS.ProcessEnv
  readonly logger: Logger
}

export interface Daemon {
  readonly peerId: string
  readonly apiUrl: string
  readonly consensus: Consensus
  readonly configuration: ServiceConfiguration
  /** Resolves when the daemon stopped (by `stop()`, or after this peer was removed). */
  readonly stopped: Promise<void>
  /** HTTP, then consensus, then libp2p, then the lock. Calling it again returns the same promise. */
  stop(): Promise<void>
}

/**
 * A listen failure because the port is taken, as one line naming the address, the key and its
 * variable (instead of libp2p's advice about `transportManager`); other errors unchanged.
 */
function addressInUse(
  error: unknown,
  addresses: readonly string[],
  key: string,
  variable: string,
): unknown {
  const text = `${(error as Error).message ?? ''} ${(error as NodeJS.ErrnoException).code ?? ''}`
  if (!text.includes('EADDRINUSE')) return error
  const taken = addresses.filter((address) => {
    const port = /\/tcp\/(\d+)/.exec(address)?.[1]
    return port !== undefined && text.includes(`:${port}`)
  })
  const shown = (taken.length > 0 ? taken : addresses).join(', ')
  return new AddressInUseError(
    `${shown} is already in use by another process: stop it, or give this peer another address with ${key} in service.json (or ${variable})`,
  )
}

/**
 * Starts a peer the way `ipfs-cluster-service daemon` does: configuration (never written), lock,
 * libp2p, consensus (staging when bootstrapping), then the HTTP API. On any failure, what was
 * started is stopped again and the lock released.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { folder, logger } = options
  const loaded = await loadServiceConfiguration(folder, options.environment)
  const configuration: ServiceConfiguration = options.leave
    ? { ...loaded, raft: { ...loaded.raft, leaveOnShutdown: true } }
    : loaded
  if (configuration.environmentOverrides.length > 0) {
    logger.info(
      { variables: configuration.environmentOverrides },
      'configuration overridden from the environment',
    )
  }
  const identity = await loadIdentity(folder)
  const bootstrap = parseBootstrap(options.bootstrap)
  const staging = bootstrap.length > 0

  const cleanups: (() => Promise<void>)[] = []
  const unwind = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) =>
        logger.error({ err: error }, 'error while stopping'),
      )
    }
    cleanups.length = 0
  }

  const lock: FolderLock = await lockFolder(folder, 'start the daemon')
  cleanups.push(() => lock.release())
  try {
    let backup: string | null = null
    if (staging) {
      // Joining starts from nothing: the old state is kept aside, as IPFS Cluster does.
      backup = await backupAndClean(
        configuration.raft.dataFolder,
        Math.max(1, configuration.raft.backupsRotate),
      )
      if (backup !== null)
        logger.info({ backup }, 'bootstrapping: the previous Raft state was backed up and cleaned')
    }

    const mismatchLogged = new Map<string, number>()
    const bandwidth = new BandwidthMeter()
    const libp2p: ServiceLibp2p = await createServiceLibp2p(configuration, identity, {
      bandwidth,
      // Rate-limited per address: a peer with the wrong secret redials every few seconds.
      onSecretMismatch: ({ remoteAddress, direction }) => {
        const now = Date.now()
        if (now - (mismatchLogged.get(remoteAddress) ?? Number.NEGATIVE_INFINITY) < 60_000) return
        mismatchLogged.set(remoteAddress, now)
        logger.warn(
          { remote: remoteAddress, direction },
          `a connection ${direction === 'inbound' ? 'from' : 'to'} ${remoteAddress} failed the private network handshake: the likely cause is a different cluster.secret on the two peers (compare cluster.secret in their service.json, or PINRAFT_CLUSTER_SECRET)`,
        )
      },
    }).catch((error: unknown) => {
      throw addressInUse(
        error,
        configuration.cluster.listenMultiaddresses,
        'cluster.listen_multiaddress',
        'PINRAFT_CLUSTER_LISTEN_MULTIADDRESS',
      )
    })
    cleanups.push(async () => {
      await libp2p.stop()
    })
    const pstore = libp2p.services.pstore
    const addresses = libp2p.getMultiaddrs().map((address) => address.toString())
    logger.info({ peerId: identity.peerId, addresses }, 'libp2p listening')

    if (staging) {
      const result = await pstore.importPeers(
        bootstrap.map((entry) => entry.multiaddr),
        { connect: true },
      )
      for (const failure of result.failures) {
        logger.warn(
          { address: failure.multiaddr, error: failure.error.message },
          'bootstrap peer unreachable',
        )
      }
    } else {
      void pstore
        .bootstrap(16)
        .catch((error: unknown) => logger.warn({ err: error }, 'connecting to known peers failed'))
    }

    // The IPFS node starts before consensus and stops after it (cleanups run in reverse).
    const connector = await createIpfsConnector(configuration)
    await connector.start()
    cleanups.push(() => connector.stop())
    const ipfsId = await ipfsIdJson(connector)
    logger.info({ ipfs: ipfsId }, 'IPFS connector started')

    const consensus = await createConsensus({
      libp2p,
      configuration: configuration.raft,
      staging,
      ...(options.newCluster === true ? { newCluster: true } : {}),
      logger: libraryLogger(logger.child({ component: 'consensus' })),
    })
    cleanups.push(() => consensus.shutdown())

    const remoteId = (peerId: string, callOptions?: { signal?: AbortSignal }) =>
      requestId(libp2p, peerId, {
        signal: callOptions?.signal ?? AbortSignal.timeout(configuration.raft.networkTimeout),
      })
    const peerAddresses = async (peerId: string): Promise<string[]> =>
      (await pstore.peerAddresses(peerIdFromString(peerId)).catch(() => [])).map((address) =>
        address.toString(),
      )
    const selfAddresses = (): string[] =>
      libp2p.getMultiaddrs().map((address) => address.toString())
    const ipfs = await startIpfsServices({
      configuration,
      libp2p,
      consensus,
      connector,
      peerId: identity.peerId,
      remoteId,
      logger,
    })
    cleanups.push(ipfs.stop)
    // The pin tracker follows consensus from here (its first pass pins what the state already
    // holds); the cluster component answers status and recover for the other peers.
    const pinning = await startPinning({
      libp2p,
      consensus,
      connector,
      peername: configuration.cluster.peername,
      stateless: configuration.pinTracker,
      stateSyncInterval: configuration.cluster.stateSyncInterval,
      pinRecoverInterval: configuration.cluster.pinRecoverInterval,
      peerTimeout: configuration.raft.networkTimeout,
      allocation: {
        configuration: configuration.allocation,
        monitorPingInterval: configuration.cluster.monitorPingInterval,
        disableRepinning: configuration.cluster.disableRepinning,
        replicationFactorMin: configuration.cluster.replicationFactorMin,
        replicationFactorMax: configuration.cluster.replicationFactorMax,
        bandwidth,
      },
      logger,
    })
    cleanups.push(() => pinning.stop())
    const lastError = new LastErrorRecorder()
    const context: ApiContext = {
      consensus,
      peername: configuration.cluster.peername,
      version: serviceVersion,
      addresses: selfAddresses,
      peerAddresses,
      remoteId,
      replicationFactorMin: configuration.cluster.replicationFactorMin,
      replicationFactorMax: configuration.cluster.replicationFactorMax,
      peerTimeout: configuration.raft.networkTimeout,
      now: () => Date.now(),
      logger: logger.child({ component: 'http' }),
      ipfs: ipfs.context,
      cluster: pinning.cluster,
      health: pinning.cluster,
      lastError,
      remoteRaftStatus: (peerId, callOptions) =>
        requestRaftStatus(libp2p, peerId, {
          signal: callOptions?.signal ?? AbortSignal.timeout(configuration.raft.networkTimeout),
        }),
    }

    await handleServiceProtocol(
      libp2p,
      serviceHandlers({
        libp2p,
        consensus,
        peerId: identity.peerId,
        peername: configuration.cluster.peername,
        networkTimeout: configuration.raft.networkTimeout,
        lastError,
        selfAddresses,
        peerAddresses,
        remoteId,
        ipfsId: () => ipfs.context.id(),
      }),
      configuration.raft.networkTimeout + configuration.raft.waitForLeaderTimeout,
      logger.child({ component: 'service' }),
    )

    if (staging) {
      await join(libp2p, consensus, bootstrap, options, backup, identity.peerId)
    }

    const peerset = await followPeerset({
      libp2p,
      consensus,
      peerId: identity.peerId,
      networkTimeout: configuration.raft.networkTimeout,
      logger,
    })
    cleanups.push(async () => peerset.stop())

    const metrics = createPeerMetrics(consensus, { transport: libp2p.services.raft })
    cleanups.push(async () => metrics.stop())
    watchTransport(libp2p.services.raft, logger.child({ component: 'raft-transport' }))
    const server: ApiServer = await startApiServer(
      context,
      configuration.api,
      logger.child({ component: 'http' }),
      metrics,
    ).catch((error: unknown) => {
      throw addressInUse(
        error,
        [configuration.api.listenMultiaddress],
        'api.restapi.http_listen_multiaddress',
        'PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS',
      )
    })
    cleanups.push(() => server.close())

    let stopping: Promise<void> | undefined
    let resolveStopped: () => void = () => {}
    let rejectStopped: (error: Error) => void = () => {}
    let failure: Error | undefined
    const stopped = new Promise<void>((resolve, reject) => {
      resolveStopped = resolve
      rejectStopped = reject
    })
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        logger.info('shutting down: HTTP API, then consensus, then the IPFS node, then libp2p')
        if (configuration.raft.leaveOnShutdown) {
          const status = consensus.status()
          logger.info(
            {
              leader: status.leader,
              timeout: `${configuration.raft.networkTimeout / 1000}s`,
            },
            status.leader === null
              ? 'leaving the cluster (--leave): no leader is known, so the removal of this peer may not commit; waiting up to consensus.raft.network_timeout'
              : 'leaving the cluster (--leave): waiting for the leader to commit the removal of this peer, up to consensus.raft.network_timeout',
          )
        }
        await unwind()
        logger.info('stopped')
        if (failure === undefined) resolveStopped()
        else rejectStopped(failure)
      })()
      return stopping
    }

    // Fail-stop: after a storage failure (a full disk, say) this peer acknowledges nothing more,
    // so the daemon exits non-zero and a supervisor can restart it once the cause is fixed.
    consensus.addEventListener('consensus:failed', (event) => {
      failure = event.detail.error
      logger.error({ error: failure.message }, 'consensus failed: stopping the daemon')
      void stop()
    })

    consensus.addEventListener('peer:remove', (event) => {
      if (event.detail.peerId === identity.peerId) {
        logger.warn('this peer was removed from the cluster: stopping')
        void stop()
      }
    })

    void consensus.ready().then(
      () => {
        peerset.savePeerstore()
        logger.info({ peerId: identity.peerId, api: server.url }, '** pinraft peer is READY **')
      },
      () => {},
    )
    return { peerId: identity.peerId, apiUrl: server.url, consensus, configuration, stopped, stop }
  } catch (error) {
    await unwind()
    throw error
  }
}
