/**
 * The errors `@pinraft/pintracker` raises, each with a stable `name` (tests compare it).
 * Messages say what was wrong and what to do.
 */

/** The pin or unpin queue holds `max_pin_queue_size` operations already (IPFS Cluster's ErrFullQueue). */
export class FullQueueError extends Error {
  static readonly code = 'FullQueueError'
  override readonly name = 'FullQueueError'
  constructor() {
    super('pin/unpin operation queue is full. Try increasing max_pin_queue_size')
  }
}

/** A `pin_tracker.stateless` key holds a value it does not allow; the message names the key. */
export class InvalidTrackerConfigurationError extends Error {
  static readonly code = 'InvalidTrackerConfigurationError'
  override readonly name = 'InvalidTrackerConfigurationError'
  readonly key: string
  constructor(key: string, problem: string) {
    super(`pin_tracker.stateless.${key} ${problem}`)
    this.key = key
  }
}

/** A status filter names a status that does not exist. */
export class InvalidStatusFilterError extends Error {
  static readonly code = 'InvalidStatusFilterError'
  override readonly name = 'InvalidStatusFilterError'
}

/** The tracker was stopped: it takes no more operations. */
export class TrackerStoppedError extends Error {
  static readonly code = 'TrackerStoppedError'
  override readonly name = 'TrackerStoppedError'
  constructor() {
    super('the pin tracker is stopped; start the daemon again')
  }
}
