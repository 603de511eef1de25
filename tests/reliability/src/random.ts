/** A seeded generator (mulberry32): the same `--seed` replays the same workload and fault schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [0, bound). */
export function randomIndex(random: () => number, bound: number): number {
  return Math.floor(random() * bound)
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[randomIndex(random, items.length)]
  if (item === undefined) throw new RangeError('pick needs at least one item')
  return item
}
