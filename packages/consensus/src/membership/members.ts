import type { Configuration } from '@pinraft/raft-core'

/** Every member of `configuration` (voters, staging, non-voters), sorted. */
export function membersOf(configuration: Configuration): string[] {
  return [...configuration.voters, ...configuration.staging, ...configuration.nonVoters].sort()
}
