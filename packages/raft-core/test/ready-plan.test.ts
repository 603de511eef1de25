import { describe, expect, it } from 'vitest'
import type { Message } from '../src/message.ts'
import { planReady } from '../src/node/ready-plan.ts'
import type { Ready } from '../src/raft/raw-node.ts'
import type { HardState } from '../src/types.ts'
import { entry } from './support/raw-cluster.ts'

function ready(parts: Partial<Ready>): Ready {
  return {
    softState: undefined,
    hardState: undefined,
    snapshot: undefined,
    entries: [],
    committedEntries: [],
    messages: [],
    readStates: [],
    ...parts,
  }
}

const append: Message = {
  type: 'append',
  from: 'a',
  to: 'b',
  term: 3,
  index: 4,
  logTerm: 3,
  entries: [entry(5, 3)],
  commit: 4,
}
const heartbeat: Message = {
  type: 'heartbeat',
  from: 'a',
  to: 'b',
  term: 3,
  commit: 4,
  context: '',
}
const vote: Message = { type: 'vote-response', from: 'a', to: 'c', term: 3, reject: false }
const saved: HardState = { term: 3, vote: 'a', commit: 4 }

describe("planReady: the order of one Ready's writes and sends", () => {
  it('lets appends and heartbeats leave early when the term and vote are already durable', () => {
    const plan = planReady(
      ready({
        hardState: { term: 3, vote: 'a', commit: 4 },
        entries: [entry(5, 3)],
        messages: [append, heartbeat, vote],
      }),
      saved,
    )
    expect(plan.early).toEqual([append, heartbeat])
    expect(plan.late).toEqual([vote])
    expect(plan.hardStateFirst).toBe(false)
  })

  it.each([
    ['a new term', { term: 4, vote: null, commit: 4 }],
    ['a new vote', { term: 3, vote: 'b', commit: 4 }],
  ])('holds every message back when the Ready carries %s not yet durable', (_, hardState) => {
    const plan = planReady(ready({ hardState, messages: [append, heartbeat] }), saved)
    expect(plan.early).toEqual([])
    expect(plan.late).toEqual([append, heartbeat])
    expect(plan.hardState).toEqual(hardState)
  })

  it('holds every message back when nothing is known durable yet', () => {
    const hardState = { term: 3, vote: 'a', commit: 0 }
    const plan = planReady(ready({ hardState, messages: [heartbeat] }), undefined)
    expect(plan.early).toEqual([])
    expect(plan.hardState).toEqual(hardState)
  })

  it('writes a new term before entries of it, never together', () => {
    const hardState = { term: 4, vote: null, commit: 4 }
    const plan = planReady(ready({ hardState, entries: [entry(5, 4)] }), saved)
    expect(plan.hardStateFirst).toBe(true)
  })

  it('writes a vote-only change (the term unchanged)', () => {
    const hardState = { term: 3, vote: 'c', commit: 4 }
    const plan = planReady(ready({ hardState }), { term: 3, vote: null, commit: 4 })
    expect(plan.hardState).toEqual(hardState)
  })

  it('does not write a change of the commit index alone, but writes it along with entries', () => {
    const onlyCommit = { term: 3, vote: 'a', commit: 6 }
    expect(planReady(ready({ hardState: onlyCommit }), saved).hardState).toBeUndefined()
    const withEntries = planReady(ready({ hardState: onlyCommit, entries: [entry(7, 3)] }), saved)
    expect(withEntries.hardState).toEqual(onlyCommit)
  })

  it('never writes a commit index past the entries already durable', () => {
    // A follower that learns commit 7 along with entries 5..7: those may not be durable when the
    // hard state is.
    const plan = planReady(
      ready({
        hardState: { term: 3, vote: 'a', commit: 7 },
        entries: [entry(5, 3), entry(6, 3), entry(7, 3)],
      }),
      saved,
    )
    expect(plan.hardState).toEqual({ term: 3, vote: 'a', commit: 4 })
  })
})
