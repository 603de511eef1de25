// The connector's configuration alone, for code that reads or writes service.json without
// running an IPFS node: importing the package root loads Helia and libp2p (over 250 packages).
export {
  type ConnectorConfiguration,
  type ConnectorConfigurationJson,
  resolveConnectorConfiguration,
} from './connector-configuration.ts'
export { formatDuration, parseGoDuration } from './duration.ts'
export {
  defaultEmbeddedConfiguration,
  type EmbeddedConfiguration,
  type EmbeddedConfigurationJson,
  resolveEmbeddedConfiguration,
} from './embedded-configuration.ts'
export {
  defaultIpfsHttpConfiguration,
  type IpfsHttpConfiguration,
  type IpfsHttpConfigurationJson,
  resolveIpfsHttpConfiguration,
} from './ipfshttp-configuration.ts'
