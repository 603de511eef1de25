import type { AbortOptions, Entry, HardState, LogStore, StableStore } from '../../src/index.ts'

/** One write a store was asked to make, as the hold rule sees it. */
export type Write =
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'truncate-suffix' | 'truncate-prefix'; readonly index: number }
  | { readonly kind: 'save'; readonly state: HardState }

/**
 * Holds the writes a rule picks until `release()`; a held write that is never released is one
 * a crash cut off (it never reaches the underlying store). Lets a test stop a node between two
 * writes of one Ready, or in the middle of one.
 */
export class WriteGate {
  rule: ((write: Write) => boolean) | undefined
  readonly held: Array<{ readonly write: Write; readonly release: () => void }> = []

  pass(write: Write, perform: () => Promise<void>): Promise<void> {
    if (this.rule?.(write) !== true) return perform()
    return new Promise<void>((resolve, reject) => {
      this.held.push({ write, release: () => void perform().then(resolve, reject) })
    })
  }

  /** Lets the oldest held write through. */
  release(): void {
    const next = this.held.shift()
    if (next === undefined) throw new Error('no write is held')
    next.release()
  }

  /** Forgets every held write: they never happen (a crash). */
  drop(): void {
    this.held.length = 0
  }
}

/** A log store whose writes pass a `WriteGate` on their way to `inner`. */
export class GatedLogStore implements LogStore {
  readonly inner: LogStore
  readonly gate: WriteGate

  constructor(inner: LogStore, gate: WriteGate) {
    this.inner = inner
    this.gate = gate
  }

  firstIndex(options?: AbortOptions): Promise<number> {
    return this.inner.firstIndex(options)
  }

  lastIndex(options?: AbortOptions): Promise<number> {
    return this.inner.lastIndex(options)
  }

  entries(low: number, high: number, options?: AbortOptions): Promise<Entry[]> {
    return this.inner.entries(low, high, options)
  }

  append(entries: readonly Entry[], options?: AbortOptions): Promise<void> {
    const copy = [...entries]
    return this.gate.pass({ kind: 'append', entries: copy }, () => this.inner.append(copy, options))
  }

  truncateSuffix(from: number, options?: AbortOptions): Promise<void> {
    return this.gate.pass({ kind: 'truncate-suffix', index: from }, () =>
      this.inner.truncateSuffix(from, options),
    )
  }

  truncatePrefix(through: number, options?: AbortOptions): Promise<void> {
    return this.gate.pass({ kind: 'truncate-prefix', index: through }, () =>
      this.inner.truncatePrefix(through, options),
    )
  }
}

/** A stable store whose saves pass a `WriteGate` on their way to `inner`. */
export class GatedStableStore implements StableStore {
  readonly inner: StableStore
  readonly gate: WriteGate

  constructor(inner: StableStore, gate: WriteGate) {
    this.inner = inner
    this.gate = gate
  }

  load(options?: AbortOptions): Promise<HardState | undefined> {
    return this.inner.load(options)
  }

  save(state: HardState, options?: AbortOptions): Promise<void> {
    const copy = { ...state }
    return this.gate.pass({ kind: 'save', state: copy }, () => this.inner.save(copy, options))
  }
}
