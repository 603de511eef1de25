export { isAllocatedTo } from './allocation.ts'
export type { StatelessConfiguration, StatelessConfigurationJson } from './configuration.ts'
export {
  defaultStatelessConfiguration,
  parseStatelessConfiguration,
  statelessConfigurationToJson,
} from './configuration.ts'
export * from './errors.ts'
export type { OperationPhase, OperationType } from './operation.ts'
export type { PinInfo } from './pin-info.ts'
export type {
  StatelessTrackerComponents,
  StatelessTrackerInit,
  TrackerEvents,
} from './stateless-tracker.ts'
export { createStatelessTracker, StatelessTracker } from './stateless-tracker.ts'
export type { StatusAllOptions } from './status/status-reader.ts'
export { unexpectedlyUnpinnedError } from './status/status-reader.ts'
export type { TrackerConsensus } from './tracker-consensus.ts'
export type { StatusFilter, TrackerStatus } from './tracker-status.ts'
export {
  matchesFilter,
  operationStatuses,
  parseStatusFilter,
  trackerStatuses,
} from './tracker-status.ts'
