import type { CompletedOperation, PinValue } from './history.ts'
import { partitionByCid } from './history.ts'
import { type SearchCall, type SequentialModel, searchLinearization } from './search.ts'

/**
 * How local reads (reads without `?consistent=true`, and the 404 check of an unpin) are judged.
 * Writes and consistent reads are always required to be linearizable.
 * - `ignored`: left out; the verdict is about writes and consistent reads only (the headline).
 * - `monotonic`: what a peer reading its own state promises: each read sees the register as it
 *   was at some instant before the read completed (it may lag, it never sees a value that was not
 *   written, or one written after it answered), and a peer's reads never go back: a read that
 *   starts after another read of the same peer completed (local or consistent) sees that state
 *   or a newer one, in the one order of writes.
 * - `stale`: as `monotonic` without the per-peer order (any earlier instant, independently).
 * - `linearizable`: as strict as consistent reads; local reads do not promise it (informational).
 */
export type LocalReads = 'ignored' | 'monotonic' | 'stale' | 'linearizable'

export interface LinearizabilityOptions {
  /** Default `monotonic`. */
  readonly localReads?: LocalReads
  /**
   * Search budget per CID, in search steps (one call tried or one return met). The search is
   * exponential in the worst case; past the budget the CID's verdict is `unknown`.
   */
  readonly maxSteps?: number
}

export type CidVerdict =
  | {
      readonly cid: string
      readonly verdict: 'linearizable'
      /** Operations that took part (failed calls and unanswered reads carry no information). */
      readonly operations: number
      readonly steps: number
    }
  | {
      readonly cid: string
      readonly verdict: 'violation'
      readonly operations: number
      readonly steps: number
      /** The longest order found that fits the model, as operation ids. */
      readonly linearizedPrefix: readonly number[]
      /** The operation that completed before the search could place it after that prefix. */
      readonly blockedAt: number
      /** Every operation of this CID, for the report. */
      readonly history: readonly CompletedOperation[]
    }
  | {
      readonly cid: string
      readonly verdict: 'unknown'
      readonly operations: number
      readonly steps: number
      readonly reason: string
    }

export interface LinearizabilityResult {
  /** `violation` if any CID has one; else `unknown` if any CID could not be decided; else `linearizable`. */
  readonly verdict: 'linearizable' | 'violation' | 'unknown'
  readonly cids: readonly CidVerdict[]
  readonly operations: number
}

const defaultMaxSteps = 1_000_000

/** A 404 on unpin wrote nothing: the peer saw no pin in its own state, a local read of `unpinned`. */
function isAbsentUnpin(operation: CompletedOperation): boolean {
  return operation.kind === 'unpin' && operation.outcome === 'ok' && operation.value === 'absent'
}

function isRead(operation: CompletedOperation): boolean {
  return operation.kind === 'read' || isAbsentUnpin(operation)
}

/** Reads of the peer's own state: every read not asked with `?consistent=true`, and 404 unpins. */
export function isLocalRead(operation: CompletedOperation): boolean {
  return (
    isAbsentUnpin(operation) ||
    (operation.kind === 'read' && operation.consistency !== 'consistent')
  )
}

/** The sequential specification of one CID: a register, initially unpinned. */
export const pinRegister: SequentialModel<PinValue, CompletedOperation> = {
  initial: 'unpinned',
  step(state, operation) {
    if (operation.kind === 'pin') return 'pinned'
    if (isAbsentUnpin(operation)) return state === 'unpinned' ? state : undefined
    if (operation.kind === 'unpin') return 'unpinned'
    return state === operation.value ? state : undefined
  },
  isPure: isRead,
  key: (state) => state,
}

/**
 * Which operations take part: failed calls never took effect; reads that got no answer observed
 * nothing; `unknown` writes may take effect any time after invocation, or never.
 */
function relevant(operation: CompletedOperation, localReads: LocalReads): boolean {
  if (operation.outcome === 'fail') return false
  if (isRead(operation)) {
    if (operation.outcome !== 'ok') return false
    return localReads !== 'ignored' || !isLocalRead(operation)
  }
  return true
}

/** The calls the search takes for one CID's operations, with their windows and per-peer order. */
export function cidSearchCalls(
  operations: readonly CompletedOperation[],
  localReads: LocalReads,
): SearchCall<CompletedOperation>[] {
  const taking = operations.filter((operation) => relevant(operation, localReads))
  const lagging = localReads === 'monotonic' || localReads === 'stale'
  return taking.map((operation) => {
    const local = isLocalRead(operation)
    let after: number[] | undefined
    if (local && localReads === 'monotonic') {
      // Every read of the same peer that completed before this one began: the peer's applied
      // state never goes back, so this read is placed after them.
      after = []
      taking.forEach((other, position) => {
        if (
          other.node === operation.node &&
          isRead(other) &&
          other.completedAt < operation.invokedAt
        )
          after!.push(position)
      })
    }
    return {
      id: operation.id,
      operation,
      invokedAt: local && lagging ? Number.NEGATIVE_INFINITY : operation.invokedAt,
      returnedAt:
        operation.outcome === 'unknown' ? Number.POSITIVE_INFINITY : operation.completedAt,
      required: operation.outcome === 'ok',
      ...(after === undefined || after.length === 0 ? {} : { after }),
    }
  })
}

function checkCid(
  cid: string,
  all: readonly CompletedOperation[],
  localReads: LocalReads,
  maxSteps: number,
): CidVerdict {
  const calls = cidSearchCalls(all, localReads)
  const result = searchLinearization(calls, pinRegister, { maxSteps })
  const operations = calls.length
  switch (result.verdict) {
    case 'linearizable':
      return { cid, verdict: 'linearizable', operations, steps: result.steps }
    case 'unknown':
      return { cid, verdict: 'unknown', operations, steps: result.steps, reason: result.reason }
    case 'violation':
      return {
        cid,
        verdict: 'violation',
        operations,
        steps: result.steps,
        linearizedPrefix: result.linearizedPrefix,
        blockedAt: result.blockedAt,
        history: all,
      }
  }
}

/**
 * Checks the history against a register per CID: writes and consistent reads must be
 * linearizable, local reads are judged by `options.localReads`. Each CID is checked on its own
 * (a pinset is a map of independent registers, and linearizability is compositional; for the
 * per-peer order of local reads, checking per CID is sound but may miss an anomaly that spans
 * CIDs).
 */
export function checkLinearizability(
  operations: readonly CompletedOperation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const localReads = options.localReads ?? 'monotonic'
  const maxSteps = options.maxSteps ?? defaultMaxSteps
  const cids: CidVerdict[] = []
  for (const [cid, group] of partitionByCid(operations))
    cids.push(checkCid(cid, group, localReads, maxSteps))
  const verdict = cids.some((entry) => entry.verdict === 'violation')
    ? 'violation'
    : cids.some((entry) => entry.verdict === 'unknown')
      ? 'unknown'
      : 'linearizable'
  return { verdict, cids, operations: operations.length }
}
