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
  StatusAllOptions,
  TrackerConsensus,
  TrackerEvents,
} from './stateless-tracker.ts'
export {
  createStatelessTracker,
  isAllocatedTo,
  StatelessTracker,
  unexpectedlyUnpinnedError,
} from './stateless-tracker.ts'
export type { StatusFilter, TrackerStatus } from './tracker-status.ts'
export {
  matchesFilter,
  operationStatuses,
  parseStatusFilter,
  trackerStatuses,
} from './tracker-status.ts'
