export { ApiClient, type ApiEndpoint, type CallResult, errorDetail } from './api-client.ts'
export { type PeerInfo, type PinraftBinary, TestCluster, type TestClusterInit } from './cluster.ts'
export {
  CommandFailedError,
  HarnessUnavailableError,
  InvalidArgumentError,
  InvalidHistoryError,
  RecoveryTimeoutError,
} from './errors.ts'
export {
  defaultFaults,
  type FaultKind,
  faultKinds,
  faultSchedule,
  Nemesis,
  parseFaultKinds,
} from './faults.ts'
export { checkFinalState, type FinalStateResult, type FinalStateViolation } from './final-state.ts'
export {
  type CallLabel,
  type CompletedOperation,
  callLabel,
  countOutcomes,
  HistoryRecorder,
  type Operation,
  type OperationKind,
  type Outcome,
  type PinValue,
  partitionByCid,
  type ReadConsistency,
  validateHistory,
} from './history.ts'
export {
  type CidVerdict,
  checkLinearizability,
  cidSearchCalls,
  isLocalRead,
  type LinearizabilityOptions,
  type LinearizabilityResult,
  type LocalReads,
  pinRegister,
} from './linearizability.ts'
export {
  networkUnavailableReason,
  nodeAddress,
  partitionTransaction,
  TestNetwork,
} from './network.ts'
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
export {
  type SearchCall,
  type SearchResult,
  type SequentialModel,
  searchLinearization,
} from './search.ts'
export { runWorkload, type WorkloadInit, type WorkloadSummary } from './workload.ts'
