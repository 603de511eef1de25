export { backupAndClean, listBackups } from './backups.ts'
export type { RaftConfiguration, RaftConfigurationJson } from './configuration/configuration.ts'
export {
  defaultRaftConfiguration,
  defaultRaftConfigurationJson,
  raftTimings,
  resolveRaftConfiguration,
} from './configuration/configuration.ts'
export { formatDuration, parseDuration, parseGoDuration } from './configuration/duration.ts'
export type {
  AbortOptions,
  AddPeerOptions,
  Consensus,
  ConsensusEvents,
  ConsensusStatus,
  PinsetView,
} from './consensus-api.ts'
export * from './errors.ts'
export {
  cleanupOfflineState,
  exportOfflineState,
  importOfflinePinset,
  importOfflineState,
} from './offline-state.ts'
export type { ConsensusInit } from './raft-consensus.ts'
export { createConsensus, RaftConsensus } from './raft-consensus.ts'
export {
  CONSENSUS_PIPELINE_PROTOCOL,
  CONSENSUS_RPC_PROTOCOL,
  MAX_RPC_MESSAGE_BYTES,
} from './rpc/rpc-protocol.ts'
