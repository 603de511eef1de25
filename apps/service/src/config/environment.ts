import { InvalidEnvironmentError } from '../errors.ts'
import { type KeyKind, type SectionDescription, sectionDescriptions } from './sections.ts'

function parseValue(variable: string, kind: KeyKind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text
    case 'number': {
      const value = Number(text)
      if (text.trim() === '' || !Number.isFinite(value)) {
        throw new InvalidEnvironmentError(variable, `must be a number, got ${JSON.stringify(text)}`)
      }
      return value
    }
    case 'boolean':
      if (text === 'true' || text === '1') return true
      if (text === 'false' || text === '0') return false
      throw new InvalidEnvironmentError(
        variable,
        `must be true or false, got ${JSON.stringify(text)}`,
      )
    case 'list':
      if (text.trim().startsWith('[')) return parseJson(variable, text, 'a JSON array')
      return text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '')
    case 'object':
      return parseJson(variable, text, 'a JSON object (or null)')
  }
}

function parseJson(variable: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new InvalidEnvironmentError(variable, `must be ${what}, got ${JSON.stringify(text)}`)
  }
}

function sectionOf(
  json: Record<string, unknown>,
  path: readonly string[],
): Record<string, unknown> {
  let current = json
  for (const part of path) {
    const next = current[part]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      current[part] = {}
    } else {
      current[part] = { ...(next as Record<string, unknown>) }
    }
    current = current[part] as Record<string, unknown>
  }
  return current
}

/** `PINRAFT_CONSENSUS_RAFT_` + `heartbeat_timeout` → `PINRAFT_CONSENSUS_RAFT_HEARTBEAT_TIMEOUT`. */
export function environmentVariable(section: SectionDescription, key: string): string {
  return `${section.environmentPrefix}${key.toUpperCase()}`
}

/**
 * Applies `PINRAFT_<SECTION>_<KEY>` variables over the parsed `service.json`, the way IPFS
 * Cluster applies `CLUSTER_<KEY>` ones: the file is never rewritten. Lists take commas or a
 * JSON array; objects take JSON. A variable under a section's prefix that names no key of it is
 * refused, so a typo does not silently keep the file's value. Returns the variables applied.
 */
export function applyEnvironmentOverrides(
  json: Record<string, unknown>,
  environment: NodeJS.ProcessEnv,
): { json: Record<string, unknown>; applied: string[] } {
  const result: Record<string, unknown> = { ...json }
  const applied: string[] = []
  const sections = sectionDescriptions()
  for (const [variable, text] of Object.entries(environment)) {
    if (text === undefined) continue
    // The longest prefix wins so that a future section nested under another stays distinct.
    const section = sections
      .filter((candidate) => variable.startsWith(candidate.environmentPrefix))
      .sort((a, b) => b.environmentPrefix.length - a.environmentPrefix.length)[0]
    if (section === undefined) continue
    const key = variable.slice(section.environmentPrefix.length).toLowerCase()
    const kind = section.keys[key]
    if (kind === undefined) {
      const known = Object.keys(section.keys)
        .sort()
        .map((name) => environmentVariable(section, name))
      throw new InvalidEnvironmentError(
        variable,
        `names no key of the ${section.name} section; the variables for it are ${known.join(', ')}`,
      )
    }
    sectionOf(result, section.path)[key] = parseValue(variable, kind, text)
    applied.push(variable)
  }
  return { json: result, applied: applied.sort() }
}
