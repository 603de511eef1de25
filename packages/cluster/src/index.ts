export { Cluster, createCluster } from './cluster.ts'
export type {
  BandwidthSource,
  ClusterComponents,
  ClusterConsensus,
  ClusterInit,
  ClusterMonitor,
  ClusterStatusAllOptions,
  ClusterTracker,
} from './components.ts'
export { buildConnectGraph } from './connect-graph.ts'
export * from './errors.ts'
export type { GlobalPinInfo, PinInfoShort } from './global-pin-info.ts'
export {
  addPinInfo,
  globalMatches,
  globalPinInfoToJson,
  goTime,
  toGlobal,
} from './global-pin-info.ts'
export type {
  Bandwidth,
  BandwidthByProtocol,
  ClusterHealth,
  ClusterPinOptions,
  ConnectGraph,
} from './health.ts'
export { checkReplicationFactors } from './pin-setup.ts'
export type { ClusterHost, ClusterRpcHandlers, PeerLinks } from './rpc/cluster-protocol.ts'
export {
  CLUSTER_PROTOCOL,
  handleClusterProtocol,
  MAX_CLUSTER_FRAME_BYTES,
  peerLinksFromWire,
  requestPeerLinks,
  requestPinInfo,
  requestPinInfoStream,
} from './rpc/cluster-protocol.ts'
export type { PinInfoWire } from './rpc/pin-info-wire.ts'
export { pinInfoFromWire, pinInfoToWire } from './rpc/pin-info-wire.ts'
export { isClosest } from './state-sync.ts'
