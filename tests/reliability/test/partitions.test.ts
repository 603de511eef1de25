import { describe, expect, it } from 'vitest'
import { partitionTransaction } from '../src/network.ts'
import { bridge, type Grudge, isolate, ring, split, visibleFrom } from '../src/partitions.ts'

function symmetric(grudge: Grudge): boolean {
  return grudge.every((blocked, node) => blocked.every((other) => grudge[other]!.includes(node)))
}

describe('partition shapes', () => {
  it('isolates one node from all others', () => {
    const grudge = isolate(5, 2)
    expect(grudge[2]).toEqual([0, 1, 3, 4])
    expect(grudge[0]).toEqual([2])
    expect(symmetric(grudge)).toBe(true)
  })

  it('splits a minority from a majority', () => {
    const grudge = split(5, [0, 3])
    expect(visibleFrom(grudge, 0)).toEqual([0, 3])
    expect(visibleFrom(grudge, 1)).toEqual([1, 2, 4])
    expect(symmetric(grudge)).toBe(true)
  })

  it('lets the bridge node see both halves, which do not see each other', () => {
    const grudge = bridge(5, 4)
    expect(visibleFrom(grudge, 4)).toEqual([0, 1, 2, 3, 4])
    expect(visibleFrom(grudge, 0)).toEqual([0, 1, 4])
    expect(visibleFrom(grudge, 2)).toEqual([2, 3, 4])
    expect(symmetric(grudge)).toBe(true)
  })

  it('gives every node of a ring a different majority', () => {
    const grudge = ring(5)
    const majorities = grudge.map((_, node) => visibleFrom(grudge, node).join(','))
    expect(new Set(majorities).size).toBe(5)
    for (let node = 0; node < 5; node++) expect(visibleFrom(grudge, node)).toHaveLength(3)
    expect(symmetric(grudge)).toBe(true)
  })
})

describe('partitionTransaction', () => {
  it('replaces every node’s blocked pairs in one nft transaction, each pair both ways', () => {
    const input = partitionTransaction(isolate(3, 0))
    const lines = input.trim().split('\n')
    // Flush and refill in one file: nft applies it atomically, never a half-applied partition.
    expect(lines).toEqual([
      'flush set bridge pinraft blocked',
      'add element bridge pinraft blocked { 10.250.0.11 . 10.250.0.12, 10.250.0.12 . 10.250.0.11, 10.250.0.11 . 10.250.0.13, 10.250.0.13 . 10.250.0.11 }',
    ])
  })

  it('blocks a one-way grudge in both directions', () => {
    expect(partitionTransaction([[1], [], []])).toMatch(
      /10\.250\.0\.11 \. 10\.250\.0\.12, 10\.250\.0\.12 \. 10\.250\.0\.11 }/,
    )
  })

  it('heals with a flush alone', () => {
    expect(partitionTransaction([[], [], []])).toBe('flush set bridge pinraft blocked\n')
  })
})
