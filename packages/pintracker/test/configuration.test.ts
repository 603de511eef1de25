import { describe, expect, it } from 'vitest'
import {
  defaultStatelessConfiguration,
  parseStatelessConfiguration,
  statelessConfigurationToJson,
} from '../src/configuration.ts'
import { parseStatusFilter } from '../src/tracker-status.ts'

describe('pin_tracker.stateless', () => {
  it('defaults to 1.x: 10 concurrent pins, a queue of 1,000,000, priority for 24h and 5 retries', () => {
    expect(parseStatelessConfiguration({})).toEqual({
      concurrentPins: 10,
      maxPinQueueSize: 1_000_000,
      priorityPinMaxAge: 86_400_000,
      priorityPinMaxRetries: 5,
    })
    expect(parseStatelessConfiguration(undefined)).toEqual(defaultStatelessConfiguration)
  })

  it('reads every key, with 0 meaning the default as in 1.x', () => {
    expect(
      parseStatelessConfiguration({
        concurrent_pins: 3,
        max_pin_queue_size: 0,
        priority_pin_max_age: '90m',
        priority_pin_max_retries: 2,
      }),
    ).toEqual({
      concurrentPins: 3,
      maxPinQueueSize: 1_000_000,
      priorityPinMaxAge: 5_400_000,
      priorityPinMaxRetries: 2,
    })
  })

  it('refuses bad values, naming the key', () => {
    expect(() => parseStatelessConfiguration({ concurrent_pins: -1 })).toThrow(
      'pin_tracker.stateless.concurrent_pins must be at least 1, got -1',
    )
    expect(() => parseStatelessConfiguration({ priority_pin_max_age: 'soon' })).toThrow(
      /priority_pin_max_age must be a duration/,
    )
    expect(() => parseStatelessConfiguration({ concurrent_pins: '10' })).toThrow(
      expect.objectContaining({ name: 'InvalidTrackerConfigurationError', key: 'concurrent_pins' }),
    )
    expect(() => parseStatelessConfiguration({ concurent_pins: 1 })).toThrow(/is not a key/)
  })

  it('writes the JSON 1.x writes', () => {
    expect(statelessConfigurationToJson(defaultStatelessConfiguration)).toEqual({
      concurrent_pins: 10,
      priority_pin_max_age: '24h0m0s',
      priority_pin_max_retries: 5,
    })
  })
})

describe('status filters', () => {
  it('parses names and 1.x composites', () => {
    expect(parseStatusFilter('')).toBeNull()
    expect([...(parseStatusFilter('pinned,pin_error') ?? [])]).toEqual(['pinned', 'pin_error'])
    expect([...(parseStatusFilter('error,queued') ?? [])].sort()).toEqual(
      ['cluster_error', 'pin_error', 'pin_queued', 'unpin_error', 'unpin_queued'].sort(),
    )
  })

  it('refuses an unknown status and lists the valid ones', () => {
    expect(() => parseStatusFilter('pinned,pinnned')).toThrow(
      /invalid filter value "pinnned": use a comma-separated list of cluster_error, pin_error/,
    )
  })
})
