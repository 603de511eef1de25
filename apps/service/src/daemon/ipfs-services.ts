import type { Libp2p } from '@libp2p/interface'
import type { Consensus } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { ServiceConfiguration } from '../config/service-configuration.ts'
import type { IdJson } from '../http/id-json.ts'
import type { IpfsApiContext } from '../http/ipfs-context.ts'
import type { Logger } from '../logging/logger.ts'
import { connectSwarmsDelay, ipfsIdJson } from './ipfs-node.ts'
import { handleIpfsProtocol, requestRepoGc } from './ipfs-protocol.ts'
import { connectIpfsSwarms } from './ipfs-swarm.ts'
import { localRepoGc } from './repo-gc.ts'

export interface IpfsServicesInit {
  readonly configuration: ServiceConfiguration
  readonly libp2p: Libp2p
  readonly consensus: Consensus
  readonly connector: IpfsConnector
  readonly peerId: string
  remoteId(peerId: string, options?: { signal?: AbortSignal }): Promise<IdJson>
  readonly logger: Logger
}

/** Garbage collection may take long on a big repository; 1.x's `repogc_timeout` bounds it. */
function repoGcTimeout(configuration: ServiceConfiguration): number {
  const section = configuration.ipfsConnector
  return section.kind === 'ipfshttp'
    ? section.ipfshttp.repoGcTimeout
    : section.embedded.repoGcTimeout
}

/**
 * What the daemon runs around its IPFS node once consensus is up: the `/ipfs/gc` protocol
 * between peers and the swarm connections between the peers' IPFS nodes (the pin tracker,
 * `pinning.ts`, pins on it). Returns the API's IPFS context and a stop function.
 */
export async function startIpfsServices(
  init: IpfsServicesInit,
): Promise<{ context: IpfsApiContext; stop: () => Promise<void> }> {
  const { configuration, connector, consensus, libp2p, logger } = init
  const peer = { peerId: init.peerId, peername: configuration.cluster.peername }
  const gcTimeout = repoGcTimeout(configuration)
  const context: IpfsApiContext = {
    connector,
    id: () =>
      ipfsIdJson(connector, { signal: AbortSignal.timeout(configuration.raft.networkTimeout) }),
    localRepoGc: (options) => localRepoGc(connector, peer, options),
    remoteRepoGc: (peerId, options) =>
      requestRepoGc(libp2p, peerId, { signal: options?.signal ?? AbortSignal.timeout(gcTimeout) }),
    repoGcTimeout: gcTimeout,
  }
  await handleIpfsProtocol(
    libp2p,
    { repoGc: (options) => localRepoGc(connector, peer, options) },
    gcTimeout,
    logger.child({ component: 'ipfs-protocol' }),
  )
  const stopSwarms = connectIpfsSwarms({
    connector,
    consensus,
    selfPeerId: init.peerId,
    remoteId: init.remoteId,
    delay: connectSwarmsDelay(configuration),
    timeout: configuration.raft.networkTimeout,
    logger: logger.child({ component: 'ipfs-swarm' }),
  })
  return {
    context,
    stop: async () => {
      stopSwarms()
      await libp2p.unhandle('/pinraft/ipfs/1.0.0').catch(() => {})
    },
  }
}
