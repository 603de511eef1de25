/**
 * The last element of `items`, or undefined when it is empty. `items[items.length - 1]` on an
 * empty array reads the property "-1", which V8 looks up along the prototype chain on every call:
 * on Raft's hot path (empty Readies, commit-only appends, an unchanged configuration) that lookup
 * cost more than the work around it.
 */
export function last<T>(items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[items.length - 1]
}
