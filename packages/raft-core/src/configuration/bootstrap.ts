import { InvalidOptionError } from '../errors.ts'
import type { Configuration, Entry, HardState } from '../types.ts'
import { encodeConfigurationChange, makeConfiguration } from './configuration.ts'

/**
 * The state a new cluster starts from (hashicorp/raft's BootstrapCluster): one committed
 * `configuration` entry at index 1, term 1. Every initial member must bootstrap with the same
 * configuration, or none but one of them may bootstrap and the rest be added.
 */
export function bootstrapState(configuration: Configuration): {
  entries: Entry[]
  hardState: HardState
} {
  const normalized = makeConfiguration(configuration)
  if (normalized.voters.length === 0) {
    throw new InvalidOptionError('a cluster must be bootstrapped with at least one voter')
  }
  return {
    entries: [
      {
        index: 1,
        term: 1,
        type: 'configuration',
        data: encodeConfigurationChange({ type: 'bootstrap', configuration: normalized }),
      },
    ],
    hardState: { term: 1, vote: null, commit: 1 },
  }
}
