import { parseGoDuration } from '@pinraft/consensus'
import { AllocationConfigurationError } from './errors.ts'

function object(section: string, json: unknown): Record<string, unknown> {
  if (json === undefined || json === null) return {}
  if (typeof json !== 'object' || Array.isArray(json))
    throw new AllocationConfigurationError(`${section} must be a JSON object`)
  return json as Record<string, unknown>
}

function onlyKeys(section: string, value: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw new AllocationConfigurationError(
        `${section}.${key} is not a key of ${section}; the keys are ${keys.join(', ')}`,
      )
  }
}

function duration(section: string, key: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '' || value === '0s') return fallback
  if (typeof value !== 'string')
    throw new AllocationConfigurationError(
      `${section}.${key} must be a Go duration string such as "30s", got ${JSON.stringify(value)}`,
    )
  const parsed = parseGoDuration(value)
  if (parsed === null)
    throw new AllocationConfigurationError(
      `${section}.${key} must be a Go duration such as "30s", got ${JSON.stringify(value)}`,
    )
  if (parsed <= 0)
    throw new AllocationConfigurationError(`${section}.${key} must be positive, got ${value}`)
  return parsed
}

/** `informer.disk` / `numpin` / `pinqueue`: 1.x's `metric_ttl` (30s). */
export interface InformerConfiguration {
  readonly metricTtl: number
}

/** `informer.disk`: `metric_type` "freespace" (1.x's default) or "reposize". */
export interface DiskInformerConfiguration extends InformerConfiguration {
  readonly metricType: 'freespace' | 'reposize'
}

export function parseDiskInformerConfiguration(json?: unknown): DiskInformerConfiguration {
  const value = object('informer.disk', json)
  onlyKeys('informer.disk', value, ['metric_ttl', 'metric_type'])
  const metricType = value.metric_type ?? 'freespace'
  if (metricType !== 'freespace' && metricType !== 'reposize')
    throw new AllocationConfigurationError(
      `informer.disk.metric_type must be "freespace" or "reposize", got ${JSON.stringify(metricType)}`,
    )
  return {
    metricTtl: duration('informer.disk', 'metric_ttl', value.metric_ttl, 30_000),
    metricType,
  }
}

export function parseNumpinInformerConfiguration(json?: unknown): InformerConfiguration {
  const value = object('informer.numpin', json)
  onlyKeys('informer.numpin', value, ['metric_ttl'])
  return { metricTtl: duration('informer.numpin', 'metric_ttl', value.metric_ttl, 10_000) }
}

export interface PinQueueInformerConfiguration extends InformerConfiguration {
  readonly weightBucketSize: number
}

export function parsePinQueueInformerConfiguration(json?: unknown): PinQueueInformerConfiguration {
  const value = object('informer.pinqueue', json)
  onlyKeys('informer.pinqueue', value, ['metric_ttl', 'weight_bucket_size'])
  const bucket = value.weight_bucket_size ?? 100_000
  if (typeof bucket !== 'number' || !Number.isSafeInteger(bucket) || bucket < 0)
    throw new AllocationConfigurationError(
      `informer.pinqueue.weight_bucket_size must be a non-negative integer, got ${JSON.stringify(bucket)}`,
    )
  return {
    metricTtl: duration('informer.pinqueue', 'metric_ttl', value.metric_ttl, 30_000),
    weightBucketSize: bucket === 0 ? 100_000 : bucket,
  }
}

export interface TagsInformerConfiguration extends InformerConfiguration {
  readonly tags: Readonly<Record<string, string>>
}

/** `informer.tags`: `tags` (1.x's default `{"group": "default"}`) and `metric_ttl`. */
export function parseTagsInformerConfiguration(json?: unknown): TagsInformerConfiguration {
  const value = object('informer.tags', json)
  onlyKeys('informer.tags', value, ['metric_ttl', 'tags'])
  const tags = value.tags ?? { group: 'default' }
  if (
    typeof tags !== 'object' ||
    tags === null ||
    Array.isArray(tags) ||
    !Object.values(tags).every((tag) => typeof tag === 'string')
  )
    throw new AllocationConfigurationError(
      'informer.tags.tags must be an object of strings, e.g. {"group": "eu"}',
    )
  return {
    metricTtl: duration('informer.tags', 'metric_ttl', value.metric_ttl, 30_000),
    tags: tags as Record<string, string>,
  }
}

/** `monitor.pubsubmon`: `check_interval` (15s) and `failure_threshold` (3). */
export interface MonitorConfiguration {
  readonly checkInterval: number
  readonly failureThreshold: number
}

export function parseMonitorConfiguration(json?: unknown): MonitorConfiguration {
  const value = object('monitor.pubsubmon', json)
  onlyKeys('monitor.pubsubmon', value, ['check_interval', 'failure_threshold'])
  const threshold = value.failure_threshold ?? 3
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0)
    throw new AllocationConfigurationError(
      `monitor.pubsubmon.failure_threshold must be a positive number, got ${JSON.stringify(threshold)}`,
    )
  return {
    checkInterval: duration('monitor.pubsubmon', 'check_interval', value.check_interval, 15_000),
    failureThreshold: threshold === 0 ? 3 : threshold,
  }
}

/** `allocator.balanced`: `allocate_by`, default `["tag:group", "freespace"]` as 1.x. */
export function parseBalancedConfiguration(json?: unknown): { allocateBy: string[] } {
  const value = object('allocator.balanced', json)
  onlyKeys('allocator.balanced', value, ['allocate_by'])
  const by = value.allocate_by ?? ['tag:group', 'freespace']
  if (
    !Array.isArray(by) ||
    by.length === 0 ||
    !by.every((name) => typeof name === 'string' && name !== '')
  )
    throw new AllocationConfigurationError(
      'allocator.balanced.allocate_by must be a non-empty list of metric names, e.g. ["tag:group", "freespace"]',
    )
  return { allocateBy: by as string[] }
}
