export { ApiClient, type ApiEndpoint, type CallResult } from './api-client.ts'
export { type PeerInfo, type PinraftBinary, TestCluster, type TestClusterInit } from './cluster.ts'
export {
  CommandFailedError,
  HarnessUnavailableError,
  InvalidArgumentError,
  InvalidHistoryError,
  RecoveryTimeoutError,
} from './errors.ts'
export { type FaultKind, faultKinds, faultSchedule, Nemesis } from './faults.ts'
export { checkFinalState, type FinalStateResult, type FinalStateViolation } from './final-state.ts'
export {
  type CompletedOperation,
  countOutcomes,
  HistoryRecorder,
  type Operation,
  type OperationKind,
  type Outcome,
  type PinValue,
  partitionByCid,
  validateHistory,
} from './history.ts'
export {
  type CidVerdict,
  checkLinearizability,
  type LinearizabilityOptions,
  type LinearizabilityResult,
  type ReadConsistency,
} from './linearizability.ts'
export { networkUnavailableReason, nodeAddress, TestNetwork } from './network.ts'
export { bridge, type Grudge, isolate, ring, split, visibleFrom } from './partitions.ts'
export { httpProbes, type ProbeResult, runProbes } from './probes.ts'
export {
  buildReport,
  type FaultRecord,
  type RunReport,
  renderMarkdown,
  writeReport,
} from './report.ts'
export { type Profile, profiles, runReliability } from './run.ts'
export { runWorkload, type WorkloadInit, type WorkloadSummary } from './workload.ts'
