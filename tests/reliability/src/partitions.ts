/**
 * Partition shapes as "grudges": for each node, the nodes it cannot exchange packets with.
 * Always symmetric (a drop rule on both ends). Nodes are numbered 0..count-1.
 */
export type Grudge = readonly (readonly number[])[]

function fromComponents(count: number, canTalk: (a: number, b: number) => boolean): Grudge {
  return Array.from({ length: count }, (_, node) =>
    Array.from({ length: count }, (_, other) => other).filter(
      (other) => other !== node && !canTalk(node, other),
    ),
  )
}

/** `node` alone on one side, everyone else on the other. */
export function isolate(count: number, node: number): Grudge {
  return fromComponents(count, (a, b) => a !== node && b !== node)
}

/** Two sides that do not see each other: `side` and the rest (a minority and a majority). */
export function split(count: number, side: readonly number[]): Grudge {
  const left = new Set(side)
  return fromComponents(count, (a, b) => left.has(a) === left.has(b))
}

/**
 * Two halves that do not see each other, and one `bridge` node that sees both: each half plus
 * the bridge is a majority.
 */
export function bridge(count: number, bridgeNode: number): Grudge {
  const others = Array.from({ length: count }, (_, node) => node).filter(
    (node) => node !== bridgeNode,
  )
  const left = new Set(others.slice(0, Math.floor(others.length / 2)))
  return fromComponents(
    count,
    (a, b) => a === bridgeNode || b === bridgeNode || left.has(a) === left.has(b),
  )
}

/**
 * Each node sees itself and its neighbours on a ring (for 5 nodes: three of five), so every node
 * sees a different majority and no two majorities are the same.
 */
export function ring(count: number): Grudge {
  const reach = Math.floor(count / 2 / 2) || 1
  return fromComponents(count, (a, b) => {
    const distance = Math.min((a - b + count) % count, (b - a + count) % count)
    return distance <= reach
  })
}

/** The nodes `node` can still reach, itself included. */
export function visibleFrom(grudge: Grudge, node: number): number[] {
  const blocked = new Set(grudge[node])
  return Array.from({ length: grudge.length }, (_, other) => other).filter(
    (other) => !blocked.has(other),
  )
}
