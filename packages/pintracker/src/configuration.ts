import { formatDuration, parseGoDuration } from '@pinraft/consensus'
import { InvalidTrackerConfigurationError } from './errors.ts'

/** `pin_tracker.stateless` (IPFS Cluster's pintracker/stateless Config), resolved. */
export interface StatelessConfiguration {
  /** How many pins run on the IPFS node at once. */
  readonly concurrentPins: number
  /** How many operations each queue (priority pins, pins, unpins) may hold. */
  readonly maxPinQueueSize: number
  /** Pins submitted less than this long ago (milliseconds) go first… */
  readonly priorityPinMaxAge: number
  /** …unless they were attempted more than this many times already. */
  readonly priorityPinMaxRetries: number
}

/** The JSON of `pin_tracker.stateless` in service.json, as 1.x writes it. */
export interface StatelessConfigurationJson {
  concurrent_pins?: number
  max_pin_queue_size?: number
  priority_pin_max_age?: string
  priority_pin_max_retries?: number
}

export const defaultStatelessConfiguration: StatelessConfiguration = {
  concurrentPins: 10,
  maxPinQueueSize: 1_000_000,
  priorityPinMaxAge: 24 * 60 * 60 * 1000,
  priorityPinMaxRetries: 5,
}

const knownKeys = new Set([
  'concurrent_pins',
  'max_pin_queue_size',
  'priority_pin_max_age',
  'priority_pin_max_retries',
])

function integer(key: string, value: unknown, minimum: number, fallback: number): number {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidTrackerConfigurationError(
      key,
      `must be an integer, got ${JSON.stringify(value)}`,
    )
  }
  // 1.x's SetIfNotDefault: 0 means "keep the default".
  if (value === 0) return fallback
  if (value < minimum) {
    throw new InvalidTrackerConfigurationError(key, `must be at least ${minimum}, got ${value}`)
  }
  return value
}

/**
 * Reads `pin_tracker.stateless` from service.json: missing keys and 0 take 1.x's defaults;
 * anything else that is not a valid value throws `InvalidTrackerConfigurationError` naming the key.
 */
export function parseStatelessConfiguration(json: unknown = {}): StatelessConfiguration {
  if (json === undefined || json === null) return defaultStatelessConfiguration
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidTrackerConfigurationError('', 'must be a JSON object')
  }
  const object = json as Record<string, unknown>
  for (const key of Object.keys(object)) {
    if (!knownKeys.has(key)) {
      throw new InvalidTrackerConfigurationError(
        key,
        `is not a key of pin_tracker.stateless; the keys are ${[...knownKeys].join(', ')}`,
      )
    }
  }
  let priorityPinMaxAge = defaultStatelessConfiguration.priorityPinMaxAge
  const age = object.priority_pin_max_age
  if (age !== undefined && age !== null && age !== '') {
    const parsed = typeof age === 'string' ? parseGoDuration(age) : null
    if (parsed === null || parsed < 0) {
      throw new InvalidTrackerConfigurationError(
        'priority_pin_max_age',
        `must be a duration such as "24h" or "90m", got ${JSON.stringify(age)}`,
      )
    }
    if (parsed > 0) priorityPinMaxAge = parsed
  }
  const retries = object.priority_pin_max_retries
  let priorityPinMaxRetries = defaultStatelessConfiguration.priorityPinMaxRetries
  if (retries !== undefined && retries !== null) {
    if (typeof retries !== 'number' || !Number.isSafeInteger(retries) || retries < 0) {
      throw new InvalidTrackerConfigurationError(
        'priority_pin_max_retries',
        `must be an integer of at least 0, got ${JSON.stringify(retries)}`,
      )
    }
    if (retries !== 0) priorityPinMaxRetries = retries
  }
  return {
    concurrentPins: integer(
      'concurrent_pins',
      object.concurrent_pins,
      1,
      defaultStatelessConfiguration.concurrentPins,
    ),
    maxPinQueueSize: integer(
      'max_pin_queue_size',
      object.max_pin_queue_size,
      1,
      defaultStatelessConfiguration.maxPinQueueSize,
    ),
    priorityPinMaxAge,
    priorityPinMaxRetries,
  }
}

/** The configuration as service.json holds it (1.x omits max_pin_queue_size at its default). */
export function statelessConfigurationToJson(
  configuration: StatelessConfiguration,
): StatelessConfigurationJson {
  return {
    ...(configuration.maxPinQueueSize === defaultStatelessConfiguration.maxPinQueueSize
      ? {}
      : { max_pin_queue_size: configuration.maxPinQueueSize }),
    concurrent_pins: configuration.concurrentPins,
    priority_pin_max_age: formatDuration(configuration.priorityPinMaxAge),
    priority_pin_max_retries: configuration.priorityPinMaxRetries,
  }
}
