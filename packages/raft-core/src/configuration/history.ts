import { last } from '../last.ts'
import type { Configuration, Entry } from '../types.ts'
import { emptyConfiguration } from '../types.ts'
import { applyConfigurationChange, decodeConfigurationChange } from './configuration.ts'

/**
 * The configurations a node's log holds, so that it always uses the latest one in its log,
 * committed or not (Raft thesis §4.1), and can step back when a conflicting suffix is truncated.
 *
 * Invariant: `changes` is sorted by index, and every index is greater than `baseIndex`.
 */
export class ConfigurationHistory {
  /** The configuration in force at `baseIndex` (a snapshot's, or the compaction point's). */
  private base: Configuration
  private baseIndex: number
  private changes: Array<{ readonly index: number; readonly configuration: Configuration }> = []

  constructor(base: Configuration = emptyConfiguration, baseIndex = 0) {
    this.base = base
    this.baseIndex = baseIndex
  }

  /** The configuration of the latest configuration entry in the log. */
  latest(): Configuration {
    return last(this.changes)?.configuration ?? this.base
  }

  /** The configuration in force at `index`: that of the last configuration entry at or before it. */
  at(index: number): Configuration {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const change = this.changes[i]
      if (change !== undefined && change.index <= index) return change.configuration
    }
    return this.base
  }

  /** Index of the latest configuration entry (or of the base). */
  latestIndex(): number {
    return last(this.changes)?.index ?? this.baseIndex
  }

  /**
   * Takes in an appended entry. A change that breaks a rule is skipped, the same way on every
   * node, since every node sees the same entries in the same order.
   */
  append(entry: Entry): void {
    if (entry.type !== 'configuration' || entry.index <= this.baseIndex) return
    let next: Configuration
    try {
      next = applyConfigurationChange(this.latest(), decodeConfigurationChange(entry.data))
    } catch {
      next = this.latest()
    }
    this.changes.push({ index: entry.index, configuration: next })
  }

  /** Forgets configuration entries at and after `index` (a truncated suffix). */
  truncateFrom(index: number): void {
    while ((last(this.changes)?.index ?? 0) >= index) {
      this.changes.pop()
    }
  }

  /** Moves the base up to `through` (log compaction). */
  compact(through: number): void {
    if (through <= this.baseIndex) return
    this.base = this.at(through)
    this.baseIndex = through
    this.changes = this.changes.filter((change) => change.index > through)
  }

  /** Starts over from a snapshot. */
  reset(configuration: Configuration, index: number): void {
    this.base = configuration
    this.baseIndex = index
    this.changes = []
  }
}
