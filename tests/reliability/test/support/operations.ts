import type {
  CompletedOperation,
  Operation,
  OperationKind,
  Outcome,
  ReadConsistency,
} from '../../src/history.ts'

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
    consistency?: ReadConsistency
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
    ...(extra.consistency === undefined ? {} : { consistency: extra.consistency }),
  }
}

/** A consistent read (`?consistent=true`): it must be linearizable. */
export const read = (
  cid: string,
  invokedAt: number,
  completedAt: number,
  value: 'pinned' | 'unpinned',
  node = 'peer-0',
) => op('read', cid, invokedAt, completedAt, { value, consistency: 'consistent', node })

/** A local read of `node`'s own state: it may lag, never go back. */
export const localRead = (
  cid: string,
  invokedAt: number,
  completedAt: number,
  value: 'pinned' | 'unpinned',
  node = 'peer-0',
) => op('read', cid, invokedAt, completedAt, { value, consistency: 'local', node })
