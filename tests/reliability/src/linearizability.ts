import type { CompletedOperation, PinValue } from './history.ts'
import { partitionByCid } from './history.ts'

/**
 * How reads are judged.
 * - `linearizable`: a read must see the register at one instant between its invocation and completion.
 * - `stale`: a read may see any value the register held at an instant before its completion (it
 *   is moved to the start of the history), but still one consistent with the single order of
 *   writes. This is what a peer reading its own, possibly lagging, state guarantees: it can lag,
 *   it cannot see a value that was never written, or one written after it answered.
 */
export type ReadConsistency = 'linearizable' | 'stale'

export interface LinearizabilityOptions {
  readonly reads?: ReadConsistency
  /**
   * Search budget per CID, in search steps (one a call tried or a return met). The search is exponential in the worst
   * case; past the budget the CID's verdict is `unknown` rather than a wait without end.
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

/** The sequential specification of one CID: a register, initially unpinned. */
interface RegisterStep {
  /** The state after, or undefined when the operation cannot happen in `state`. */
  readonly next: PinValue | undefined
  /** It only looks at the state: linearizing it as soon as it fits is never worse (see `search`). */
  readonly pure: boolean
}

function stepRegister(state: PinValue, operation: CompletedOperation): RegisterStep {
  switch (operation.kind) {
    case 'pin':
      return { next: 'pinned', pure: false }
    case 'unpin':
      // A 404 wrote nothing: the peer saw no pin, which is a read of `unpinned`.
      if (operation.outcome === 'ok' && operation.value === 'absent') {
        return { next: state === 'unpinned' ? state : undefined, pure: true }
      }
      return { next: 'unpinned', pure: false }
    case 'read':
      return { next: state === operation.value ? state : undefined, pure: true }
  }
}

function isPure(operation: CompletedOperation): boolean {
  return (
    operation.kind === 'read' ||
    (operation.kind === 'unpin' && operation.outcome === 'ok' && operation.value === 'absent')
  )
}

interface Entry {
  readonly call: boolean
  readonly time: number
  readonly operation: CompletedOperation
  /** Position of the operation in the CID's list (its bit in the linearized set). */
  readonly index: number
  /** The call's return entry; on a return, its call. */
  match: Entry | undefined
  previous: Entry | undefined
  next: Entry | undefined
}

/**
 * Which operations take part, and when: failed calls never took effect; reads that got no answer
 * observed nothing; `unknown` writes may take effect any time after invocation, so their return
 * is at infinity and the search may also leave them out.
 */
function relevantOperations(operations: readonly CompletedOperation[]): CompletedOperation[] {
  return operations.filter((operation) => {
    if (operation.outcome === 'fail') return false
    if (isPure(operation) || operation.kind === 'read') return operation.outcome === 'ok'
    return true
  })
}

function buildEntries(operations: readonly CompletedOperation[], reads: ReadConsistency): Entry {
  const entries: Entry[] = []
  operations.forEach((operation, index) => {
    const invoked =
      reads === 'stale' && isPure(operation) ? Number.NEGATIVE_INFINITY : operation.invokedAt
    const returned =
      operation.outcome === 'unknown' ? Number.POSITIVE_INFINITY : operation.completedAt
    const call: Entry = {
      call: true,
      time: invoked,
      operation,
      index,
      match: undefined,
      previous: undefined,
      next: undefined,
    }
    const result: Entry = {
      call: false,
      time: returned,
      operation,
      index,
      match: call,
      previous: undefined,
      next: undefined,
    }
    call.match = result
    entries.push(call, result)
  })
  // At equal times calls go first: two calls that touch are taken as concurrent, which only
  // widens the orders allowed (a checker must not report a violation that timing cannot prove).
  entries.sort(
    (a, b) =>
      a.time - b.time || (a.call === b.call ? a.operation.id - b.operation.id : a.call ? -1 : 1),
  )
  const head: Entry = {
    call: false,
    time: Number.NEGATIVE_INFINITY,
    operation: undefined as unknown as CompletedOperation,
    index: -1,
    match: undefined,
    previous: undefined,
    next: undefined,
  }
  let last = head
  for (const entry of entries) {
    last.next = entry
    entry.previous = last
    last = entry
  }
  return head
}

function lift(call: Entry): void {
  const result = call.match!
  call.previous!.next = call.next
  call.next!.previous = call.previous
  result.previous!.next = result.next
  if (result.next !== undefined) result.next.previous = result.previous
}

function unlift(call: Entry): void {
  const result = call.match!
  result.previous!.next = result
  if (result.next !== undefined) result.next.previous = result
  call.previous!.next = call
  call.next!.previous = call
}

interface Decision {
  readonly entry: Entry
  readonly stateBefore: PinValue
  readonly pure: boolean
}

/**
 * Wing & Gong's search with Lowe's memoisation of (linearized set, state) configurations: walk
 * the calls that are open at the first pending return, linearize one that fits the model, and
 * backtrack when a return is reached before its call could be placed.
 *
 * A pure call that fits is linearized without keeping the alternative of skipping it: it does
 * not change the state and placing it earlier only drops a constraint, so any order found
 * without it can take it here. This keeps concurrent reads from multiplying the search.
 */
function checkCid(
  cid: string,
  all: readonly CompletedOperation[],
  reads: ReadConsistency,
  maxSteps: number,
): CidVerdict {
  const operations = relevantOperations(all)
  const head = buildEntries(operations, reads)
  const words = new Uint32Array(Math.ceil(operations.length / 32) + 1)
  const seen = new Set<string>()
  const stack: Decision[] = []
  let definiteLeft = operations.filter((operation) => operation.outcome === 'ok').length
  let state: PinValue = 'unpinned'
  let entry = head.next
  let steps = 0
  let deepest: { prefix: number[]; blockedAt: number } | undefined

  const setBit = (index: number, on: boolean): void => {
    const word = index >>> 5
    const bit = 1 << (index & 31)
    words[word] = on ? words[word]! | bit : words[word]! & ~bit
  }
  const key = (): string => `${state}:${words.join(',')}`

  /** Undoes decisions up to the last one that had an alternative; false when none is left. */
  const backtrack = (): boolean => {
    for (;;) {
      const decision = stack.pop()
      if (decision === undefined) return false
      unlift(decision.entry)
      setBit(decision.entry.index, false)
      state = decision.stateBefore
      if (decision.entry.operation.outcome === 'ok') definiteLeft += 1
      if (!decision.pure) {
        entry = decision.entry.next
        return true
      }
    }
  }

  while (definiteLeft > 0) {
    steps += 1
    if (steps > maxSteps) {
      return {
        cid,
        verdict: 'unknown',
        operations: operations.length,
        steps,
        reason: `search budget of ${maxSteps} steps exhausted; raise maxSteps or shorten the run (fewer concurrent clients per CID)`,
      }
    }
    // Only unknown calls are left before the end (their returns sit at infinity), and
    // definiteLeft > 0 means some ok return is still ahead: entry cannot run off the list.
    const current = entry!
    if (current.call) {
      const { next, pure } = stepRegister(state, current.operation)
      if (next === undefined) {
        entry = current.next
        continue
      }
      const before: PinValue = state
      state = next
      setBit(current.index, true)
      const configuration = key()
      if (seen.has(configuration)) {
        state = before
        setBit(current.index, false)
        // For a pure call, linearizing it here dominates skipping it; that configuration is
        // known to fail, so this one fails too.
        if (pure) {
          if (!backtrack()) break
        } else {
          entry = current.next
        }
        continue
      }
      seen.add(configuration)
      stack.push({ entry: current, stateBefore: before, pure })
      lift(current)
      if (current.operation.outcome === 'ok') definiteLeft -= 1
      entry = head.next
      continue
    }
    // A return whose call is not linearized yet: this branch cannot go on.
    if (deepest === undefined || stack.length >= deepest.prefix.length) {
      deepest = {
        prefix: stack.map((decision) => decision.entry.operation.id),
        blockedAt: current.operation.id,
      }
    }
    if (!backtrack()) break
  }

  if (definiteLeft === 0)
    return { cid, verdict: 'linearizable', operations: operations.length, steps }
  return {
    cid,
    verdict: 'violation',
    operations: operations.length,
    steps,
    linearizedPrefix: deepest?.prefix ?? [],
    blockedAt: deepest?.blockedAt ?? -1,
    history: all,
  }
}

/**
 * Checks that the history is linearizable against a register per CID. Each CID is checked on its
 * own (a pinset is a map of independent registers, and linearizability is compositional).
 */
export function checkLinearizability(
  operations: readonly CompletedOperation[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const reads = options.reads ?? 'linearizable'
  const maxSteps = options.maxSteps ?? defaultMaxSteps
  const cids: CidVerdict[] = []
  for (const [cid, group] of partitionByCid(operations))
    cids.push(checkCid(cid, group, reads, maxSteps))
  const verdict = cids.some((entry) => entry.verdict === 'violation')
    ? 'violation'
    : cids.some((entry) => entry.verdict === 'unknown')
      ? 'unknown'
      : 'linearizable'
  return { verdict, cids, operations: operations.length }
}
