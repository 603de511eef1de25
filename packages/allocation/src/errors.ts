/**
 * The errors `@pinraft/allocation` raises, each with a stable `name` (tests compare it; the HTTP
 * layer maps names to status codes).
 */

/** Fewer peers with valid metrics than the pin's replication_factor_min (1.x's message). */
export class AllocationError extends Error {
  static readonly code = 'AllocationError'
  override readonly name = 'AllocationError'
  readonly needed: number
  readonly wanted: number
  readonly candidates: readonly string[]
  constructor(needed: number, wanted: number, candidates: readonly string[]) {
    super(
      `not enough peers to allocate CID. Needed at least: ${needed}. Wanted at most: ${wanted}. ` +
        `Available candidates: ${candidates.length}. See logs for more info.`,
    )
    this.needed = needed
    this.wanted = wanted
    this.candidates = candidates
  }
}

/** Replication factors that cannot be used (1.x's "bad replication factors"). */
export class ReplicationFactorError extends Error {
  static readonly code = 'ReplicationFactorError'
  override readonly name = 'ReplicationFactorError'
}

/** A configuration section with a bad key or value: the message names the key. */
export class AllocationConfigurationError extends Error {
  static readonly code = 'AllocationConfigurationError'
  override readonly name = 'AllocationConfigurationError'
}
