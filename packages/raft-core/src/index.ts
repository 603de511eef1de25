export type { AbortOptions } from './abort.ts'
export { bootstrapState } from './configuration/bootstrap.ts'
export {
  applyConfigurationChange,
  configurationsEqual,
  decodeConfigurationChange,
  encodeConfigurationChange,
  isMember,
  isVoter,
  makeConfiguration,
  members,
} from './configuration/configuration.ts'
export * from './errors.ts'
export type { Logger } from './logger.ts'
export { silentLogger } from './logger.ts'
export type * from './message.ts'
export { isResponse, messageTypes } from './message.ts'
export type { Clock } from './node/clock.ts'
export { ManualClock, systemClock } from './node/clock.ts'
export type { EventListenerFor } from './node/events.ts'
export { TypedEventTarget } from './node/events.ts'
export type { RaftNodeInit } from './node/node-options.ts'
export type { NodeStatus, RaftNodeComponents, RaftNodeEvents } from './node/raft-node.ts'
export { createRaftNode, RaftNode } from './node/raft-node.ts'
export type { ReadyPlan } from './node/ready-plan.ts'
export { planReady } from './node/ready-plan.ts'
export type { Command, StateMachine } from './node/state-machine.ts'
export type { VoteResult } from './quorum/majority.ts'
export { committedIndex, isQuorum, voteResult } from './quorum/majority.ts'
export type { RaftOptions } from './raft/options.ts'
export type { InitialState, Ready, SoftState } from './raft/raw-node.ts'
export { RawNode } from './raft/raw-node.ts'
export type { FollowerProgress, Status } from './raft/status.ts'
export * from './storage/index.ts'
export type { ProgressState } from './tracker/progress.ts'
export * from './transport/index.ts'
export type * from './types.ts'
export { emptyConfiguration } from './types.ts'
