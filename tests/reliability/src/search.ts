/**
 * The sequential specification an object is checked against: a state, how each operation moves
 * it, and which operations only look at it.
 */
export interface SequentialModel<State, Operation> {
  readonly initial: State
  /** The state after `operation`, or undefined when `operation` cannot happen in `state`. */
  step(state: State, operation: Operation): State | undefined
  /**
   * It never changes the state (a read): linearizing it as soon as it fits is never worse than
   * placing it later, so the search does not keep that alternative.
   */
  isPure(operation: Operation): boolean
  /** Identifies a state, for the memo of configurations already explored. */
  key(state: State): string
}

/** One call of a history, as the search sees it. */
export interface SearchCall<Operation> {
  /** Reported back in the linearized prefix and `blockedAt`. */
  readonly id: number
  readonly operation: Operation
  /**
   * The earliest instant it may take effect. `Number.NEGATIVE_INFINITY` for a call that may have
   * observed any earlier instant (a read of a peer's possibly lagging local state).
   */
  readonly invokedAt: number
  /** The latest instant it may take effect; `Number.POSITIVE_INFINITY` for a call without an answer. */
  readonly returnedAt: number
  /** An acknowledged call must be linearized; an unanswered one may also never have taken effect. */
  readonly required: boolean
  /**
   * Positions (in the array given to the search) of calls that must be linearized before this
   * one, beyond what the times say: a peer's earlier reads, which its later reads never precede.
   */
  readonly after?: readonly number[]
}

export type SearchResult =
  | { readonly verdict: 'linearizable'; readonly steps: number }
  | {
      readonly verdict: 'violation'
      readonly steps: number
      /** The longest order found that fits the model, as call ids. */
      readonly linearizedPrefix: readonly number[]
      /** The call whose return the search met before it could place that call. */
      readonly blockedAt: number
    }
  | { readonly verdict: 'unknown'; readonly steps: number; readonly reason: string }

interface Entry<Operation> {
  readonly call: boolean
  readonly time: number
  readonly item: SearchCall<Operation>
  /** Position of the call in the input (its bit in the linearized set). */
  readonly index: number
  /** The call's return entry; on a return, its call. */
  match: Entry<Operation> | undefined
  previous: Entry<Operation> | undefined
  next: Entry<Operation> | undefined
}

function buildEntries<Operation>(calls: readonly SearchCall<Operation>[]): Entry<Operation> {
  const entries: Entry<Operation>[] = []
  calls.forEach((item, index) => {
    const call: Entry<Operation> = {
      call: true,
      time: item.invokedAt,
      item,
      index,
      match: undefined,
      previous: undefined,
      next: undefined,
    }
    const result: Entry<Operation> = {
      call: false,
      time: item.returnedAt,
      item,
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
    (a, b) => a.time - b.time || (a.call === b.call ? a.item.id - b.item.id : a.call ? -1 : 1),
  )
  const head: Entry<Operation> = {
    call: false,
    time: Number.NEGATIVE_INFINITY,
    item: undefined as unknown as SearchCall<Operation>,
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

function lift<Operation>(call: Entry<Operation>): void {
  const result = call.match!
  call.previous!.next = call.next
  call.next!.previous = call.previous
  result.previous!.next = result.next
  if (result.next !== undefined) result.next.previous = result.previous
}

function unlift<Operation>(call: Entry<Operation>): void {
  const result = call.match!
  result.previous!.next = result
  if (result.next !== undefined) result.next.previous = result
  call.previous!.next = call
  call.next!.previous = call
}

/**
 * Wing & Gong's search with Lowe's memoisation of (linearized set, state) configurations: walk
 * the calls that are open at the first pending return, linearize one that fits the model (and
 * whose required predecessors are linearized), and backtrack when a return is reached before
 * its call could be placed. Bounded by `maxSteps` (one call tried or one return met each); past
 * it the verdict is `unknown`, never a pass.
 *
 * Check one object at a time (Lowe's P-compositionality): a pinset is a map of independent
 * registers, so the caller splits the history per key.
 */
export function searchLinearization<State, Operation>(
  calls: readonly SearchCall<Operation>[],
  model: SequentialModel<State, Operation>,
  options: { maxSteps: number },
): SearchResult {
  const head = buildEntries(calls)
  const words = new Uint32Array(Math.ceil(calls.length / 32) + 1)
  const seen = new Set<string>()
  const stack: { entry: Entry<Operation>; stateBefore: State; pure: boolean }[] = []
  let requiredLeft = calls.filter((call) => call.required).length
  let state = model.initial
  let entry = head.next
  let steps = 0
  let deepest: { prefix: number[]; blockedAt: number } | undefined

  const isSet = (index: number): boolean => (words[index >>> 5]! & (1 << (index & 31))) !== 0
  const setBit = (index: number, on: boolean): void => {
    const word = index >>> 5
    const bit = 1 << (index & 31)
    words[word] = on ? words[word]! | bit : words[word]! & ~bit
  }
  const key = (): string => `${model.key(state)}:${words.join(',')}`

  /** Undoes decisions up to the last one that had an alternative; false when none is left. */
  const backtrack = (): boolean => {
    for (;;) {
      const decision = stack.pop()
      if (decision === undefined) return false
      unlift(decision.entry)
      setBit(decision.entry.index, false)
      state = decision.stateBefore
      if (decision.entry.item.required) requiredLeft += 1
      if (!decision.pure) {
        entry = decision.entry.next
        return true
      }
    }
  }

  while (requiredLeft > 0) {
    steps += 1
    if (steps > options.maxSteps) {
      return {
        verdict: 'unknown',
        steps,
        reason: `search budget of ${options.maxSteps} steps exhausted; raise maxSteps or shorten the run (fewer concurrent clients per CID)`,
      }
    }
    // Only optional calls are left before the end (their returns sit at infinity), and
    // requiredLeft > 0 means some required return is still ahead: entry cannot run off the list.
    const current = entry!
    if (current.call) {
      const ready = current.item.after?.every(isSet) ?? true
      const next = ready ? model.step(state, current.item.operation) : undefined
      if (next === undefined) {
        entry = current.next
        continue
      }
      const pure = model.isPure(current.item.operation)
      const before = state
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
      if (current.item.required) requiredLeft -= 1
      entry = head.next
      continue
    }
    // A return whose call is not linearized yet: this branch cannot go on.
    if (deepest === undefined || stack.length >= deepest.prefix.length) {
      deepest = {
        prefix: stack.map((decision) => decision.entry.item.id),
        blockedAt: current.item.id,
      }
    }
    if (!backtrack()) break
  }

  if (requiredLeft === 0) return { verdict: 'linearizable', steps }
  return {
    verdict: 'violation',
    steps,
    linearizedPrefix: deepest?.prefix ?? [],
    blockedAt: deepest?.blockedAt ?? -1,
  }
}
