import { afterEach, describe, expect, it } from 'vitest'
import { InvariantViolation, simulate } from '../sim/simulation.ts'
import type { VoteMessage } from '../src/message.ts'
import { committedIndex } from '../src/quorum/majority.ts'
import { Raft } from '../src/raft/raft.ts'
import { RaftLog } from '../src/raft/raft-log.ts'

/** CI runs a bounded number of seeds; `pnpm --filter @pinraft/raft-core sim --seeds N` runs more. */
const seeds = Number(process.env.RAFT_SIM_SEEDS ?? 200)

// The faults below are flipped into the real state machine by replacing one method at a time,
// so the checker is shown to catch the bugs it exists for.
type Patchable = Record<string, unknown>
const prototype = Raft.prototype as unknown as Patchable
const originals = new Map<string, unknown>()

function patch(name: string, replacement: (this: Raft, ...args: never[]) => unknown): void {
  originals.set(name, prototype[name])
  prototype[name] = replacement
}

afterEach(() => {
  for (const [name, original] of originals) prototype[name] = original
  originals.clear()
})

function firstViolation(count: number): InvariantViolation | undefined {
  for (let seed = 1; seed <= count; seed++) {
    try {
      simulate({
        seed,
        nodes: 3 + (seed % 3),
        initialVoters: 3 + (seed % 3),
        partition: 0.03,
        crash: 0.02,
      })
    } catch (error) {
      if (error instanceof InvariantViolation) return error
      throw error
    }
  }
  return undefined
}

describe('simulation', () => {
  it(`keeps every safety property and recovers after faults heal, over ${seeds} seeds of 3 to 7 nodes`, () => {
    let elections = 0
    let committed = 0
    let snapshots = 0
    let membershipChanges = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const nodes = 3 + (seed % 5)
      const result = simulate({ seed, nodes, initialVoters: Math.min(nodes, 3 + (seed % 3)) })
      elections += result.elections
      committed += result.committed
      snapshots += result.snapshotsInstalled
      membershipChanges += result.membershipChanges
    }
    // The runs really exercised what they claim to.
    expect(elections).toBeGreaterThan(seeds)
    expect(committed).toBeGreaterThan(seeds * 50)
    expect(snapshots).toBeGreaterThan(0)
    expect(membershipChanges).toBeGreaterThan(0)
  })

  it('catches a leader that commits on a minority (State Machine Safety or Leader Completeness)', () => {
    patch('maybeCommit', function (this: Raft) {
      // The bug: the best-replicated voter, not a majority, decides what is committed.
      const voters = this.configuration.voters
      const index = Math.max(...voters.map((id) => this.progress.get(id)?.match ?? 0))
      const honest = committedIndex(voters, (id) => this.progress.get(id)?.match ?? 0)
      if (index > this.log.committed && index > honest && this.log.term(index) === this.term) {
        this.log.commitTo(index)
        return true
      }
      return (originals.get('maybeCommit') as (this: Raft) => boolean).call(this)
    })
    const violation = firstViolation(300)
    expect(violation).toBeDefined()
    expect(['State Machine Safety', 'Leader Completeness', 'Log Matching']).toContain(
      violation?.property,
    )
    expect(violation?.message).toMatch(/replay: pnpm --filter @pinraft\/raft-core sim --seed \d+/)
  })

  it('catches a node that grants two votes in one term (Election Safety)', () => {
    patch('handleVoteRequest', function (this: Raft, message: VoteMessage) {
      // The bug: the vote already cast in this term is ignored.
      const self = this as unknown as {
        send(message: unknown): void
        vote: string | null
        electionElapsed: number
      }
      const responseType = message.type === 'vote' ? 'vote-response' : 'pre-vote-response'
      if (this.log.isUpToDate(message.index, message.logTerm)) {
        self.send({
          type: responseType,
          from: this.id,
          to: message.from,
          term: message.term,
          reject: false,
        })
        if (message.type === 'vote') {
          self.electionElapsed = 0
          self.vote = message.from
        }
      } else {
        self.send({
          type: responseType,
          from: this.id,
          to: message.from,
          term: this.term,
          reject: true,
        })
      }
    })
    const violation = firstViolation(300)
    expect(violation).toBeDefined()
    expect(['Election Safety', 'One vote per term']).toContain(violation?.property)
  })

  it('catches voters that ignore the election restriction (Leader Completeness)', () => {
    const logPrototype = RaftLog.prototype as unknown as Patchable
    const original = logPrototype.isUpToDate
    // The bug: any candidate's log counts as up to date (paper §5.4.1 ignored).
    logPrototype.isUpToDate = () => true
    try {
      const violation = firstViolation(300)
      expect(violation).toBeDefined()
      expect(['Leader Completeness', 'State Machine Safety', 'Log Matching']).toContain(
        violation?.property,
      )
    } finally {
      logPrototype.isUpToDate = original
    }
  })
})
