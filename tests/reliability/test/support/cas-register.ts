import type { SearchCall, SequentialModel } from '../../src/search.ts'

/**
 * Jepsen's compare-and-set register (knossos `cas-register`): reads, writes and compare-and-set
 * of small integers, initially null. Calls end `ok`, `fail` (surely did not happen: left out, as
 * knossos does) or `info` (no answer: may take effect any time after invocation, or never).
 */
export type RegisterOperation =
  | { readonly f: 'read'; readonly value: number | null }
  | { readonly f: 'write'; readonly value: number }
  | { readonly f: 'cas'; readonly from: number; readonly to: number }

export type JepsenType = 'ok' | 'fail' | 'info'

export interface JepsenCall {
  readonly process: number
  readonly type: JepsenType
  readonly operation: RegisterOperation
  readonly invokedAt: number
  readonly completedAt: number
}

export const casRegister: SequentialModel<number | null, RegisterOperation> = {
  initial: null,
  step(state, operation) {
    switch (operation.f) {
      case 'read':
        return operation.value === state ? state : undefined
      case 'write':
        return operation.value
      case 'cas':
        return state === operation.from ? operation.to : undefined
    }
  },
  isPure: (operation) => operation.f === 'read',
  key: (state) => String(state),
}

/** The calls the search takes: failed calls and unanswered reads say nothing and are left out. */
export function toSearchCalls(history: readonly JepsenCall[]): SearchCall<RegisterOperation>[] {
  return history
    .map((call, id) => ({ call, id }))
    .filter(
      ({ call }) => call.type !== 'fail' && !(call.type === 'info' && call.operation.f === 'read'),
    )
    .map(({ call, id }) => ({
      id,
      operation: call.operation,
      invokedAt: call.invokedAt,
      returnedAt: call.type === 'info' ? Number.POSITIVE_INFINITY : call.completedAt,
      required: call.type === 'ok',
    }))
}

/** Shorthands for hand-written histories: `w(1, 0, 10)` writes 1 between t=0 and t=10. */
let process = 0
const call = (
  operation: RegisterOperation,
  invokedAt: number,
  completedAt: number,
  type: JepsenType,
): JepsenCall => ({ process: process++, type, operation, invokedAt, completedAt })
export const r = (value: number | null, from: number, to: number, type: JepsenType = 'ok') =>
  call({ f: 'read', value }, from, to, type)
export const w = (value: number, from: number, to: number, type: JepsenType = 'ok') =>
  call({ f: 'write', value }, from, to, type)
export const cas = (
  expected: number,
  next: number,
  from: number,
  to: number,
  type: JepsenType = 'ok',
) => call({ f: 'cas', from: expected, to: next }, from, to, type)
