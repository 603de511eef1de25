import type { Configuration, SnapshotMetadata } from '@pinraft/raft-core'
import { InvalidRecordError } from './errors.ts'

/** Version of `meta.json`; a later release that changes it migrates or reads older ones. */
export const snapshotFormatVersion = 1

/** What `meta.json` holds for each published snapshot. */
export interface SnapshotMeta extends SnapshotMetadata {
  readonly format: number
  /** Bytes in `state.bin`. */
  readonly size: number
  /** SHA-256 of `state.bin`, lowercase hex. */
  readonly sha256: string
}

/** Throws an `InvalidRecordError` unless `metadata` can be stored as it is. */
export function checkSnapshotMetadata(metadata: SnapshotMetadata): void {
  const { index, term, configuration } = metadata
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
    throw new InvalidRecordError(
      `snapshot index ${String(index)} and term ${String(term)} must be non-negative integers`,
    )
  }
  if (!isConfiguration(configuration)) {
    throw new InvalidRecordError(
      'snapshot configuration must have voters, nonVoters and staging lists of node ids',
    )
  }
}

export function copyConfiguration(configuration: Configuration): Configuration {
  return {
    voters: [...configuration.voters],
    nonVoters: [...configuration.nonVoters],
    staging: [...configuration.staging],
  }
}

/** Parses `meta.json`; returns the reason it is unusable instead of throwing. */
export function parseSnapshotMeta(text: string): SnapshotMeta | { readonly reason: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { reason: 'meta.json is not valid JSON' }
  }
  if (typeof parsed !== 'object' || parsed === null) return { reason: 'meta.json is not an object' }
  const record = parsed as Partial<Record<string, unknown>>
  if (typeof record.format !== 'number') return { reason: 'meta.json has no format version' }
  if (record.format > snapshotFormatVersion) {
    return {
      reason: `meta.json has format ${record.format}, written by a newer release (this one reads ${snapshotFormatVersion})`,
    }
  }
  const { index, term, size, sha256, configuration } = record
  if (
    !isCount(index) ||
    !isCount(term) ||
    !isCount(size) ||
    typeof sha256 !== 'string' ||
    !/^[0-9a-f]{64}$/.test(sha256) ||
    !isConfiguration(configuration)
  ) {
    return { reason: 'meta.json lacks a valid index, term, size, sha256 or configuration' }
  }
  return {
    format: record.format,
    index,
    term,
    size,
    sha256,
    configuration: copyConfiguration(configuration),
  }
}

export function encodeSnapshotMeta(meta: SnapshotMeta): string {
  const { format, index, term, size, sha256, configuration } = meta
  return `${JSON.stringify({ format, index, term, size, sha256, configuration }, null, 2)}\n`
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function isConfiguration(value: unknown): value is Configuration {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Partial<Record<string, unknown>>
  return [record.voters, record.nonVoters, record.staging].every(
    (list) => Array.isArray(list) && list.every((id) => typeof id === 'string'),
  )
}
