import { InvalidHistoryError } from './errors.ts'

/** What a client asked for. */
export type OperationKind = 'pin' | 'unpin' | 'read'

/**
 * How a call ended, seen from the client:
 * - `ok`: acknowledged; it took effect exactly once, somewhere between invocation and completion.
 * - `fail`: definitely refused; it never took effect (a 4xx, or a connection that was never made).
 * - `unknown`: timed out or broke midway; it may take effect at any point after its invocation, or never.
 */
export type Outcome = 'ok' | 'fail' | 'unknown'

/** A CID's value in the model: the cluster's pinset either holds it or not. */
export type PinValue = 'pinned' | 'unpinned'

/**
 * How a read was asked for. `local`: the peer answers from its own state, which may lag (the
 * default, as in IPFS Cluster). `consistent`: `?consistent=true`, answered only once the peer has
 * applied up to the leader's confirmed read index (ReadIndex), so it is linearizable.
 */
export type ReadConsistency = 'local' | 'consistent'

/**
 * One recorded call. Times are monotonic nanoseconds since the history began (never wall-clock
 * time, so a clock step during a run cannot reorder calls).
 */
export interface Operation {
  /** Unique within a history, in invocation order. */
  readonly id: number
  /** The client (logical process) that issued it; a process has at most one call in flight. */
  readonly process: number
  readonly kind: OperationKind
  readonly cid: string
  /** The peer whose HTTP API received the call. */
  readonly node: string
  readonly invokedAt: number
  /** When the client saw the answer or gave up; absent only while the call is in flight. */
  readonly completedAt?: number
  readonly outcome?: Outcome
  /**
   * What an `ok` call observed. A read: `pinned` or `unpinned`. An unpin: `unpinned` when the peer
   * removed the pin, `absent` when the peer answered 404 because its own state did not hold the
   * CID (then nothing was written: the call is a read that saw `unpinned`).
   */
  readonly value?: PinValue | 'absent'
  /** Reads only: how it was asked for; absent means `local`. */
  readonly consistency?: ReadConsistency
  /** Why it failed or is unknown (status code, error name), for the report. */
  readonly detail?: string
}

/** A finished operation: every field the checkers rely on is set. */
export interface CompletedOperation extends Operation {
  readonly completedAt: number
  readonly outcome: Outcome
}

export interface HistoryRecorderInit {
  /** Monotonic clock in nanoseconds; defaults to `process.hrtime.bigint()`. Tests inject their own. */
  now?: () => bigint
}

/**
 * Records calls as clients make them: `invoke` before sending, `complete` once the answer (or the
 * timeout) is known. Calls still in flight at the end are recorded as `unknown`.
 */
export class HistoryRecorder {
  readonly #operations: Operation[] = []
  readonly #now: () => bigint
  readonly #origin: bigint
  readonly #inFlight = new Map<number, number>()

  constructor(init: HistoryRecorderInit = {}) {
    this.#now = init.now ?? (() => process.hrtime.bigint())
    this.#origin = this.#now()
  }

  /** Nanoseconds since the history began. */
  elapsed(): number {
    return Number(this.#now() - this.#origin)
  }

  invoke(call: {
    process: number
    kind: OperationKind
    cid: string
    node: string
    consistency?: ReadConsistency
  }): number {
    const busy = this.#inFlight.get(call.process)
    if (busy !== undefined) {
      throw new InvalidHistoryError(
        `process ${call.process} invoked a call while operation ${busy} is still in flight; a process makes one call at a time`,
      )
    }
    const id = this.#operations.length
    this.#operations.push({ id, ...call, invokedAt: this.elapsed() })
    this.#inFlight.set(call.process, id)
    return id
  }

  complete(
    id: number,
    result: { outcome: Outcome; value?: Operation['value']; detail?: string },
  ): void {
    const operation = this.#operations[id]
    if (operation === undefined || operation.completedAt !== undefined) {
      throw new InvalidHistoryError(`operation ${id} was never invoked or is already complete`)
    }
    this.#operations[id] = { ...operation, completedAt: this.elapsed(), ...result }
    this.#inFlight.delete(operation.process)
  }

  /** A copy of the history; calls still in flight are closed as `unknown` at the current time. */
  operations(): CompletedOperation[] {
    const now = this.elapsed()
    return this.#operations.map((operation) =>
      operation.completedAt === undefined || operation.outcome === undefined
        ? {
            ...operation,
            completedAt: now,
            outcome: 'unknown',
            detail: operation.detail ?? 'still in flight',
          }
        : (operation as CompletedOperation),
    )
  }
}

/**
 * Checks the shape of a history read from a file or built by hand: ids unique, times ordered,
 * ok reads carrying a value. Throws `InvalidHistoryError` saying which operation is wrong.
 */
export function validateHistory(operations: readonly CompletedOperation[]): void {
  const ids = new Set<number>()
  for (const operation of operations) {
    const where = `operation ${operation.id} (${operation.kind} ${operation.cid})`
    if (ids.has(operation.id))
      throw new InvalidHistoryError(`${where}: duplicate id; ids must be unique`)
    ids.add(operation.id)
    if (!(operation.invokedAt <= operation.completedAt)) {
      throw new InvalidHistoryError(
        `${where}: completes at ${operation.completedAt} before its invocation at ${operation.invokedAt}`,
      )
    }
    if (
      operation.outcome === 'ok' &&
      operation.kind === 'read' &&
      operation.value !== 'pinned' &&
      operation.value !== 'unpinned'
    ) {
      throw new InvalidHistoryError(
        `${where}: an ok read must say what it saw (value pinned or unpinned)`,
      )
    }
    if (operation.consistency !== undefined && operation.kind !== 'read') {
      throw new InvalidHistoryError(`${where}: only a read has a consistency`)
    }
    if (operation.outcome === 'ok' && operation.kind === 'unpin' && operation.value === 'pinned') {
      throw new InvalidHistoryError(`${where}: an unpin's value is unpinned or absent, not pinned`)
    }
  }
}

/** Operations grouped by CID, each group in invocation order (Lowe's P-compositionality: checked apart). */
export function partitionByCid(
  operations: readonly CompletedOperation[],
): Map<string, CompletedOperation[]> {
  const groups = new Map<string, CompletedOperation[]>()
  for (const operation of operations) {
    let group = groups.get(operation.cid)
    if (group === undefined) {
      group = []
      groups.set(operation.cid, group)
    }
    group.push(operation)
  }
  for (const group of groups.values())
    group.sort((a, b) => a.invokedAt - b.invokedAt || a.id - b.id)
  return groups
}

/** What the report counts calls by: the kind, and for reads how they were asked for. */
export type CallLabel = 'pin' | 'unpin' | 'local read' | 'consistent read'

export function callLabel(operation: Operation): CallLabel {
  if (operation.kind !== 'read') return operation.kind
  return operation.consistency === 'consistent' ? 'consistent read' : 'local read'
}

/** Counts by kind and outcome, for the report. */
export function countOutcomes(
  operations: readonly CompletedOperation[],
): Record<CallLabel, Record<Outcome, number>> {
  const counts: Record<CallLabel, Record<Outcome, number>> = {
    pin: { ok: 0, fail: 0, unknown: 0 },
    unpin: { ok: 0, fail: 0, unknown: 0 },
    'local read': { ok: 0, fail: 0, unknown: 0 },
    'consistent read': { ok: 0, fail: 0, unknown: 0 },
  }
  for (const operation of operations) counts[callLabel(operation)][operation.outcome] += 1
  return counts
}
