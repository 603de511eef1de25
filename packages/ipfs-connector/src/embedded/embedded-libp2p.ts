import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { CreateLibp2pOptions } from '@helia/libp2p'
import { identify, identifyPush } from '@libp2p/identify'
import type { PrivateKey, ServiceMap } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { EmbeddedConfiguration } from '../configuration/embedded-configuration.ts'

/**
 * The embedded node's own libp2p options: TCP, noise, yamux and identify, nothing else unless
 * the operator asks. libp2pDefaults() is not used on purpose: it brings the public bootstrap
 * list, the DHT, delegated routing, autoNAT, UPnP, mDNS, relays and autoTLS, which all reach
 * beyond the cluster. The DHT's modules load only when the operator turns it on.
 */
export async function embeddedLibp2pOptions(
  configuration: EmbeddedConfiguration,
  privateKey: PrivateKey,
): Promise<CreateLibp2pOptions<ServiceMap>> {
  const services: ServiceMap = {
    identify: identify(),
    identifyPush: identifyPush(),
  }
  if (configuration.dht) {
    // The public Amino DHT, as Kubo runs it (the operator turned it on).
    const { kadDHT, removePrivateAddressesMapper } = await import('@libp2p/kad-dht')
    services.ping = ping()
    services.dht = kadDHT({
      protocol: '/ipfs/kad/1.0.0',
      clientMode: false,
      peerInfoMapper: removePrivateAddressesMapper,
    })
  }
  return {
    privateKey,
    addresses: {
      listen: [...configuration.listenMultiaddresses],
      announce: [...configuration.announceMultiaddresses],
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    services,
  } as CreateLibp2pOptions<ServiceMap>
}
