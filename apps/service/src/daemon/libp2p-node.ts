import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { type PeerstoreManager, pstoreManager } from '@pinraft/pstoremgr'
import { preSharedKeyFromSecret, type RaftTransport, raftTransport } from '@pinraft/raft-libp2p'
import { createLibp2p } from 'libp2p'
import type { Identity } from '../config/identity.ts'
import type { ServiceConfiguration } from '../config/service-configuration.ts'
import type { BandwidthMeter } from './bandwidth-meter.ts'
import { type SecretMismatch, secretCheckingProtector } from './secret-check.ts'

export type ServiceLibp2p = Libp2p<{
  raft: RaftTransport
  pstore: PeerstoreManager
  identify: unknown
}>

/**
 * The cluster's libp2p host: TCP + noise + yamux on a private network keyed by the cluster
 * secret (peers without it cannot even connect), identify (so members learn a joining peer's
 * listen addresses), the Raft transport and the peerstore manager (which loads the peerstore file
 * on start and saves it on stop).
 */
export async function createServiceLibp2p(
  configuration: ServiceConfiguration,
  identity: Identity,
  options: {
    onSecretMismatch?: (mismatch: SecretMismatch) => void
    /** Counts each protocol's bytes for `GET /health/bandwidth`. */
    bandwidth?: BandwidthMeter
  } = {},
): Promise<ServiceLibp2p> {
  const protector = preSharedKey({ psk: preSharedKeyFromSecret(configuration.cluster.secret) })
  const onMismatch = options.onSecretMismatch
  const node = await createLibp2p({
    privateKey: identity.privateKey,
    addresses: { listen: [...configuration.cluster.listenMultiaddresses] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(options.bandwidth === undefined ? {} : { metrics: () => options.bandwidth! }),
    connectionProtector:
      onMismatch === undefined
        ? protector
        : () =>
            secretCheckingProtector(
              protector(),
              Buffer.from(configuration.cluster.secret, 'hex'),
              onMismatch,
            ),
    services: {
      identify: identify(),
      raft: raftTransport(),
      pstore: pstoreManager({
        peerstorePath: configuration.peerstorePath,
        dialTimeout: configuration.cluster.dialPeerTimeout,
      }),
    },
  })
  return node as unknown as ServiceLibp2p
}
