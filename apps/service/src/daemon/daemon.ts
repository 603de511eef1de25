import { peerIdFromString } from '@libp2p/peer-id'
import { backupAndClean, type Consensus, createConsensus } from '@pinraft/consensus'
import { type PeerMultiaddr, parsePeerMultiaddr } from '@pinraft/pstoremgr'
import { loadIdentity } from '../config/identity.ts'
import {
  loadServiceConfiguration,
  type ServiceConfiguration,
} from '../config/service-configuration.ts'
import { AddressInUseError, JoinError, UsageError } from '../errors.ts'
import type { ApiContext } from '../http/api-context.ts'
import { idJson } from '../http/id-json.ts'
import { LastErrorRecorder } from '../http/last-error.ts'
import { createPeerMetrics } from '../http/metrics.ts'
import { localRaftStatus } from '../http/raft-status-json.ts'
import { type ApiServer, startApiServer } from '../http/server.ts'
import { type Logger, libraryLogger } from '../logging/logger.ts'
import { serviceVersion } from '../version.ts'
import { BandwidthMeter } from './bandwidth-meter.ts'
import { createIpfsConnector, ipfsIdJson } from './ipfs-node.ts'
import { startIpfsServices } from './ipfs-services.ts'
import { createServiceLibp2p, type ServiceLibp2p } from './libp2p-node.ts'
import { type FolderLock, lockFolder } from './lock-file.ts'
import {
  learnMemberAddresses,
  type MemberAddressesComponents,
  startMemberAddressExchange,
} from './member-addresses.ts'
import { startPinning } from './pinning.ts'
import {
  handleServiceProtocol,
  requestId,
  requestJoin,
  requestRaftStatus,
} from './service-protocol.ts'
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

function parseBootstrap(addresses: readonly string[]): PeerMultiaddr[] {
  return addresses.map((address) => {
    let parsed: PeerMultiaddr
    try {
      parsed = parsePeerMultiaddr(address, { source: '--bootstrap' })
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    if (parsed.peerId === undefined) {
      throw new UsageError(
        `--bootstrap ${address} names no peer: give the full multiaddress of a running peer, ending in /p2p/<peer-id> (\`pinraft id\` on that peer prints it)`,
      )
    }
    return parsed
  })
}

function joinFailure(
  reason: string,
  peerId: string,
  bootstrap: readonly string[],
  backup: string | null,
): JoinError {
  return new JoinError(
    [
      `could not join the cluster: ${reason}`,
      'To fix it:',
      `  - check that a peer is running at ${bootstrap.join(', ')} and that this machine can reach it (firewall, address, port);`,
      '  - check that both peers have the same cluster.secret in service.json (peers with different secrets cannot connect at all);',
      '  - check that the cluster has a leader (`pinraft peers ls` on that peer).',
      `Then run \`pinraft daemon --bootstrap ${bootstrap.join(',')}\` again.`,
      `If this peer (${peerId}) was added but could not catch up, start it again with --bootstrap: the leader re-adds a member without Raft state as staging and sends it a snapshot.`,
      ...(backup === null ? [] : [`The previous Raft state of this peer was moved to ${backup}.`]),
    ].join('\n'),
  )
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
      {
        join: async (peerId, callOptions) => {
          await consensus.addPeer(peerId, callOptions)
          const members = (await consensus.peers()).filter((member) => member !== peerId)
          const known = await Promise.all(
            members.map(async (member) => {
              if (member === identity.peerId) return selfAddresses()
              const addresses = await peerAddresses(member)
              if (
                addresses.length > 0 ||
                libp2p.getConnections(peerIdFromString(member)).length === 0
              )
                return addresses
              // Connected but with no address in the peer store: the member says where it
              // listens, so that the joining peer can reach it.
              const timeout = AbortSignal.timeout(configuration.raft.networkTimeout)
              return remoteId(member, {
                signal:
                  callOptions.signal === undefined
                    ? timeout
                    : AbortSignal.any([callOptions.signal, timeout]),
              })
                .then((id) => id.addresses)
                .catch(() => [])
            }),
          )
          return known.flat()
        },
        // What `GET /id` answers locally, so remote entries of `GET /peers` carry the same
        // fields (their `cluster_peers_addresses` too), as in IPFS Cluster.
        id: async () => {
          const members = await consensus.peers()
          return idJson({
            id: identity.peerId,
            addresses: selfAddresses(),
            cluster_peers: members,
            cluster_peers_addresses: (
              await Promise.all(
                members
                  .filter((member) => member !== identity.peerId)
                  .map((member) => peerAddresses(member)),
              )
            ).flat(),
            version: serviceVersion,
            ipfs: await ipfs.context.id(),
            peername: configuration.cluster.peername,
          })
        },
        raftStatus: async () =>
          localRaftStatus(consensus, configuration.cluster.peername, lastError.last()),
      },
      configuration.raft.networkTimeout + configuration.raft.waitForLeaderTimeout,
      logger.child({ component: 'service' }),
    )

    if (staging) {
      await join(libp2p, consensus, bootstrap, options, backup, identity.peerId)
    }

    // Members that cannot dial each other (a join answered before a member was known) learn
    // the addresses from the members they are connected to: once before this peer says it is
    // ready, then every 10 s and soon after each member is added.
    const memberAddresses: MemberAddressesComponents = {
      peerId: identity.peerId,
      members: (callOptions) => consensus.peers(callOptions),
      knownAddresses: (peerId) => pstore.peerAddresses(peerId).catch(() => []),
      connected: (peerId) => libp2p.getConnections(peerId).length > 0,
      requestId: (peerId, callOptions) => requestId(libp2p, peerId, callOptions),
      importAddresses: async (addresses, callOptions) => {
        await pstore.importPeers(addresses, { connect: true, signal: callOptions.signal })
      },
      logger,
    }
    await learnMemberAddresses(memberAddresses, {
      signal: AbortSignal.timeout(configuration.raft.networkTimeout),
      callTimeout: configuration.raft.networkTimeout,
    }).catch((error: unknown) =>
      logger.debug({ err: error }, "could not learn the members' addresses before starting"),
    )
    const addressExchange = startMemberAddressExchange(memberAddresses, {
      interval: 10_000,
      callTimeout: configuration.raft.networkTimeout,
    })
    cleanups.push(async () => addressExchange.stop())
    const kickAddressExchange = () => addressExchange.kick()
    consensus.addEventListener('peer:add', kickAddressExchange)

    // The peerstore file follows the peerset (IPFS Cluster saves it on every change).
    const savePeerstore = () => {
      void consensus
        .peers()
        .then((peers) => pstore.savePeerstoreForPeers(peers.map((peer) => peerIdFromString(peer))))
        .catch((error: unknown) => {
          // Stopping: the file was saved by the peerstore manager's own stop.
          if ((error as Error).name === 'ConsensusShutdownError') return
          logger.warn({ err: error }, 'could not save the peerstore file')
        })
    }
    consensus.addEventListener('peer:add', savePeerstore)
    consensus.addEventListener('peer:remove', savePeerstore)

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
        savePeerstore()
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

/** Asks to join, waiting its turn while the leader is adding another peer (one at a time). */
async function requestJoinInTurn(
  libp2p: ServiceLibp2p,
  target: PeerMultiaddr['multiaddr'],
  consensus: Consensus,
  deadline: AbortSignal,
  logger: Logger,
): Promise<string[]> {
  for (;;) {
    try {
      return await requestJoin(libp2p, target, {
        signal: deadline,
        freshState: consensus.status().freshState,
      })
    } catch (error) {
      if ((error as Error).name !== 'JoinInProgressError' || deadline.aborted) throw error
      logger.info({ reason: (error as Error).message }, 'another peer is joining: waiting my turn')
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}

async function join(
  libp2p: ServiceLibp2p,
  consensus: Consensus,
  bootstrap: readonly PeerMultiaddr[],
  options: DaemonOptions,
  backup: string | null,
  peerId: string,
): Promise<void> {
  const { logger } = options
  const deadline = AbortSignal.timeout(options.joinTimeout)
  const texts = bootstrap.map((entry) => entry.multiaddr.toString())
  const reasons: string[] = []
  let added = false
  for (const entry of bootstrap) {
    try {
      logger.info({ bootstrap: entry.multiaddr.toString() }, 'asking to join the cluster')
      const members = await requestJoinInTurn(libp2p, entry.multiaddr, consensus, deadline, logger)
      added = true
      // Connecting to every member lets each learn this peer's addresses (identify), so that
      // any of them can reach it once it leads.
      const result = await libp2p.services.pstore.importPeers(members, { connect: true })
      for (const failure of result.failures) {
        logger.warn(
          { address: failure.multiaddr, error: failure.error.message },
          'could not connect to a member',
        )
      }
      break
    } catch (error) {
      reasons.push(`${entry.multiaddr.toString()}: ${(error as Error).message}`)
      if (deadline.aborted) break
    }
  }
  if (!added) {
    throw joinFailure(
      `no bootstrap peer added this peer (${reasons.join('; ') || 'timed out'})`,
      peerId,
      texts,
      backup,
    )
  }
  logger.info('added to the cluster; catching up with the leader')
  // A large snapshot or log takes a while: say how far it got at once, then every few seconds.
  const report = () => {
    const status = consensus.status()
    logger.info(
      {
        appliedIndex: status.appliedIndex,
        commitIndex: status.commitIndex,
        pins: status.pins,
        leader: status.leader,
      },
      `catching up with the leader: applied ${status.appliedIndex} of ${status.commitIndex} (${status.pins} pins so far)`,
    )
  }
  report()
  const progress = setInterval(report, 5000)
  try {
    await consensus.ready({ signal: deadline })
  } catch {
    throw joinFailure(
      `this peer was added but did not become a voter caught up with the leader within ${options.joinTimeout / 1000}s`,
      peerId,
      texts,
      backup,
    )
  } finally {
    clearInterval(progress)
  }
}
