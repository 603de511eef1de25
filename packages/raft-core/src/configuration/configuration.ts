import { ConfigurationChangeError } from '../errors.ts'
import type { Configuration, ConfigurationChange, NodeId } from '../types.ts'

/** Every member, whatever its suffrage. */
export function members(configuration: Configuration): NodeId[] {
  return [...configuration.voters, ...configuration.nonVoters, ...configuration.staging]
}

export function isVoter(configuration: Configuration, id: NodeId): boolean {
  return configuration.voters.includes(id)
}

/** `id` is the configuration's only voter: its own vote is a quorum. */
export function isSoleVoter(configuration: Configuration, id: NodeId): boolean {
  return configuration.voters.length === 1 && configuration.voters[0] === id
}

export function isMember(configuration: Configuration, id: NodeId): boolean {
  return (
    configuration.voters.includes(id) ||
    configuration.nonVoters.includes(id) ||
    configuration.staging.includes(id)
  )
}

export function configurationsEqual(a: Configuration, b: Configuration): boolean {
  const same = (x: readonly NodeId[], y: readonly NodeId[]) =>
    x.length === y.length && x.every((id, i) => id === y[i])
  return same(a.voters, b.voters) && same(a.nonVoters, b.nonVoters) && same(a.staging, b.staging)
}

/** Builds a configuration from possibly unsorted lists, checking that no node appears twice. */
export function makeConfiguration(parts: {
  voters?: readonly NodeId[]
  nonVoters?: readonly NodeId[]
  staging?: readonly NodeId[]
}): Configuration {
  const voters = [...new Set(parts.voters ?? [])].sort()
  const nonVoters = [...new Set(parts.nonVoters ?? [])].sort()
  const staging = [...new Set(parts.staging ?? [])].sort()
  const seen = new Set<NodeId>()
  for (const id of [...voters, ...nonVoters, ...staging]) {
    if (id === '') {
      throw new ConfigurationChangeError('a configuration member has an empty node id')
    }
    if (seen.has(id)) {
      throw new ConfigurationChangeError(
        `node ${id} appears twice in the configuration; a node is a voter, a non-voter or staging, never two of them`,
      )
    }
    seen.add(id)
  }
  return { voters, nonVoters, staging }
}

/**
 * The configuration after `change`, or the same object when the change does nothing (adding a
 * member already in that role, removing an absent one). Throws for a change that breaks a rule.
 */
export function applyConfigurationChange(
  configuration: Configuration,
  change: ConfigurationChange,
): Configuration {
  if (change.type === 'bootstrap') {
    return makeConfiguration(change.configuration)
  }
  const id = change.node
  if (typeof id !== 'string' || id === '') {
    throw new ConfigurationChangeError(`a ${change.type} change needs a non-empty node id`)
  }
  const without = (list: readonly NodeId[]) => list.filter((member) => member !== id)
  switch (change.type) {
    case 'add-voter': {
      if (configuration.voters.includes(id) || configuration.staging.includes(id)) {
        return configuration
      }
      return makeConfiguration({
        voters: configuration.voters,
        nonVoters: without(configuration.nonVoters),
        staging: [...configuration.staging, id],
      })
    }
    case 'add-non-voter': {
      if (isMember(configuration, id)) {
        return configuration
      }
      return makeConfiguration({
        voters: configuration.voters,
        nonVoters: [...configuration.nonVoters, id],
        staging: configuration.staging,
      })
    }
    case 'promote': {
      if (configuration.voters.includes(id)) {
        return configuration
      }
      if (!configuration.staging.includes(id)) {
        throw new ConfigurationChangeError(
          `cannot promote ${id}: only a staging member (added with add-voter) is promoted`,
        )
      }
      return makeConfiguration({
        voters: [...configuration.voters, id],
        nonVoters: configuration.nonVoters,
        staging: without(configuration.staging),
      })
    }
    case 'remove': {
      if (!isMember(configuration, id)) {
        return configuration
      }
      if (isSoleVoter(configuration, id)) {
        throw new ConfigurationChangeError(
          `cannot remove ${id}: it is the last voter, and a cluster without voters can never make progress again`,
        )
      }
      return makeConfiguration({
        voters: without(configuration.voters),
        nonVoters: without(configuration.nonVoters),
        staging: without(configuration.staging),
      })
    }
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** The bytes of a `configuration` entry. */
export function encodeConfigurationChange(change: ConfigurationChange): Uint8Array {
  return encoder.encode(JSON.stringify(change))
}

export function decodeConfigurationChange(data: Uint8Array): ConfigurationChange {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(data))
  } catch (cause) {
    throw new ConfigurationChangeError(
      `a configuration entry is not valid JSON (${String(cause)}); the log is corrupt`,
    )
  }
  if (typeof value !== 'object' || value === null || !('type' in value)) {
    throw new ConfigurationChangeError('a configuration entry has no type; the log is corrupt')
  }
  const change = value as ConfigurationChange
  switch (change.type) {
    case 'bootstrap':
      return { type: 'bootstrap', configuration: makeConfiguration(change.configuration) }
    case 'add-voter':
    case 'add-non-voter':
    case 'promote':
    case 'remove':
      if (typeof change.node !== 'string' || change.node === '') {
        throw new ConfigurationChangeError(
          `a ${change.type} entry names no node; the log is corrupt`,
        )
      }
      return { type: change.type, node: change.node }
    default:
      throw new ConfigurationChangeError(
        `a configuration entry has an unknown type ${JSON.stringify((change as { type: unknown }).type)}`,
      )
  }
}
