import type { CompletedOperation, Operation, OperationKind, Outcome } from '../../src/history.ts'

let nextId = 0

/** A completed operation, written the way the tests read: `op('pin', 'a', 0, 10)`. */
export function op(
  kind: OperationKind,
  cid: string,
  invokedAt: number,
  completedAt: number,
  extra: {
    outcome?: Outcome
    value?: Operation['value']
    process?: number
    node?: string
    id?: number
  } = {},
): CompletedOperation {
  const id = extra.id ?? nextId++
  return {
    id,
    process: extra.process ?? id,
    kind,
    cid,
    node: extra.node ?? 'peer-0',
    invokedAt,
    completedAt,
    outcome: extra.outcome ?? 'ok',
    ...(extra.value === undefined ? {} : { value: extra.value }),
  }
}

export const read = (
  cid: string,
  invokedAt: number,
  completedAt: number,
  value: 'pinned' | 'unpinned',
) => op('read', cid, invokedAt, completedAt, { value })
