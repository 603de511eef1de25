export type { AllocateRequest, MetricSource } from './allocate.ts'
export { allocate } from './allocate.ts'
export type { MetricsSet } from './balanced-allocator.ts'
export { BalancedAllocator } from './balanced-allocator.ts'
export * from './configuration.ts'
export * from './errors.ts'
export type { AbortOptions, Informer, RepoStatSource } from './informers.ts'
export {
  createDiskInformer,
  createNumpinInformer,
  createPinQueueInformer,
  createTagsInformer,
} from './informers.ts'
export type { Alert, Metric, MetricWire } from './metric.ts'
export {
  alertToJson,
  isExpired,
  metricFromWire,
  metricToJson,
  metricToWire,
  PING_METRIC,
} from './metric.ts'
export type {
  MetricsTransport,
  MonitorComponents,
  MonitorEvents,
  MonitorInit,
} from './monitor.ts'
export { Monitor } from './monitor.ts'
export type { MonitorHost } from './monitor-protocol.ts'
export {
  createLibp2pMetricsTransport,
  handleMonitorProtocol,
  MONITOR_PROTOCOL,
} from './monitor-protocol.ts'
export { phi } from './phi.ts'
export type {
  ReallocateComponents,
  ReallocateOptions,
  ReallocateResult,
} from './reallocate.ts'
export { reallocatePeer } from './reallocate.ts'
export type { Reallocation } from './repin.ts'
export { planReallocations } from './repin.ts'
