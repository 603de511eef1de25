import { afterEach, describe, expect, it } from 'vitest'
import type { ScenarioName } from '../sim/scenarios.ts'
import { scenarioFor, scenarioNames, simulateSeed } from '../sim/scenarios.ts'
import { InvariantViolation } from '../sim/simulation.ts'
import type { Message, VoteMessage } from '../src/message.ts'
import { planReady } from '../src/node/ready-plan.ts'
import { committedIndex } from '../src/quorum/majority.ts'
import { Raft } from '../src/raft/raft.ts'
import { RaftLog } from '../src/raft/raft-log.ts'
import type { Ready } from '../src/raft/raw-node.ts'
import type { HardState } from '../src/types.ts'

/** CI runs a bounded number of seeds; `pnpm --filter @pinraft/raft-core sim --seeds N` runs more. */
const seeds = Number(process.env.RAFT_SIM_SEEDS ?? 1200)

// The faults below are flipped into the real state machine by replacing one method at a time,
// so the checker is shown to catch the bugs it exists for.
type Patchable = Record<string, unknown>
const prototype = Raft.prototype as unknown as Patchable
const originals = new Map<string, unknown>()

function patch(name: string, replacement: (this: Raft, ...args: never[]) => unknown): void {
  originals.set(name, prototype[name])
  prototype[name] = replacement
}

function original<T>(name: string): T {
  return originals.get(name) as T
}

afterEach(() => {
  for (const [name, method] of originals) prototype[name] = method
  originals.clear()
})

/** The first violation among `count` seeds of `scenario`, or undefined. */
function firstViolation(
  scenario: ScenarioName,
  count: number,
  overrides: Parameters<typeof simulateSeed>[1] = {},
): InvariantViolation | undefined {
  for (let seed = 1; seed <= count; seed++) {
    try {
      simulateSeed(seed, { ...overrides, scenario })
    } catch (error) {
      if (error instanceof InvariantViolation) return error
      throw error
    }
  }
  return undefined
}

describe('simulation', () => {
  it(`keeps every safety property and recovers after faults heal, over ${seeds} seeds of every scenario`, {
    timeout: 240_000,
  }, () => {
    const totals = {
      elections: 0,
      committed: 0,
      snapshotsInstalled: 0,
      membershipChanges: 0,
      cutsEntriesOnly: 0,
      cutsHardStateOnly: 0,
      acknowledged: 0,
      reads: 0,
    }
    const perScenario = new Map<ScenarioName, number>()
    for (let seed = 1; seed <= seeds; seed++) {
      const result = simulateSeed(seed)
      for (const key of Object.keys(totals) as Array<keyof typeof totals>)
        totals[key] += result[key]
      perScenario.set(result.scenario, (perScenario.get(result.scenario) ?? 0) + 1)
    }
    // The runs really exercised what they claim to.
    expect(totals.elections).toBeGreaterThan(seeds)
    expect(totals.committed).toBeGreaterThan(seeds * 50)
    expect(totals.snapshotsInstalled).toBeGreaterThan(0)
    expect(totals.membershipChanges).toBeGreaterThan(0)
    // Crashes cut between a Ready's two writes, both ways.
    expect(totals.cutsEntriesOnly).toBeGreaterThan(0)
    expect(totals.cutsHardStateOnly).toBeGreaterThan(0)
    expect(totals.acknowledged).toBeGreaterThan(seeds * 10)
    expect(totals.reads).toBeGreaterThan(seeds)
    expect([...perScenario.keys()].sort()).toEqual([...scenarioNames].sort())
  })

  it('spreads seeds over every scenario and names the scenario in the replay command', () => {
    expect(new Set(scenarioNames.map((_, seed) => scenarioFor(seed))).size).toBe(
      scenarioNames.length,
    )
    patch('maybeCommit', function (this: Raft) {
      // Commits everything the leader has, on no one's word.
      if (this.log.lastIndex() > this.log.committed) this.log.commitTo(this.log.lastIndex())
      return original<(this: Raft) => boolean>('maybeCommit').call(this)
    })
    const violation = firstViolation('mixed', 50)
    expect(violation?.message).toMatch(
      /replay: pnpm --filter @pinraft\/raft-core sim --seed \d+ --scenario mixed/,
    )
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
      return original<(this: Raft) => boolean>('maybeCommit').call(this)
    })
    const violation = firstViolation('mixed', 300)
    expect(violation).toBeDefined()
    expect([
      'Durable commit',
      'State Machine Safety',
      'Leader Completeness',
      'Log Matching',
    ]).toContain(violation?.property)
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
    const violation = firstViolation('mixed', 300)
    expect(violation).toBeDefined()
    expect(['Election Safety', 'One vote per term']).toContain(violation?.property)
  })

  it('catches voters that ignore the election restriction (Leader Completeness)', () => {
    const logPrototype = RaftLog.prototype as unknown as Patchable
    const isUpToDate = logPrototype.isUpToDate
    // The bug: any candidate's log counts as up to date (paper §5.4.1 ignored).
    logPrototype.isUpToDate = () => true
    try {
      const violation = firstViolation('mixed', 300)
      expect(violation).toBeDefined()
      expect(['Leader Completeness', 'State Machine Safety', 'Log Matching']).toContain(
        violation?.property,
      )
    } finally {
      logPrototype.isUpToDate = isUpToDate
    }
  })

  it('catches a leader that commits an older term by counting replicas (Figure 8, paper §5.4.2)', () => {
    patch('maybeCommit', function (this: Raft) {
      // The bug: any entry a majority holds is committed, whatever its term.
      const index = committedIndex(
        this.configuration.voters,
        (id) => this.progress.get(id)?.match ?? 0,
      )
      if (index > this.log.committed && this.log.term(index) !== this.term) {
        this.log.commitTo(index)
        return true
      }
      return original<(this: Raft) => boolean>('maybeCommit').call(this)
    })
    const violation = firstViolation('figure-8', 300)
    expect(violation).toBeDefined()
    expect(['State Machine Safety', 'Leader Completeness', 'Log Matching']).toContain(
      violation?.property,
    )
  })

  it("catches a new leader that changes the configuration before its term's first entry commits", () => {
    patch('becomeLeader', function (this: Raft) {
      original<(this: Raft) => void>('becomeLeader').call(this)
      // The bug (Ongaro, raft-dev 2015): the change the new leader may have inherited is
      // not waited for.
      ;(this as unknown as { pendingConfigurationIndex: number }).pendingConfigurationIndex = 0
    })
    const violation = firstViolation('first-change', 300)
    expect(violation).toBeDefined()
    expect([
      'One change in flight',
      'Configuration agreement',
      'Election Safety',
      'State Machine Safety',
      'Leader Completeness',
    ]).toContain(violation?.property)
  })

  it('catches a ReadIndex answered before the leader knows its commit index (Linearizable ReadIndex)', () => {
    patch(
      'handleReadIndexRequest',
      function (this: Raft, message: { context: string; from: string }) {
        // The bug: a new leader answers before its no-op commits (thesis §6.4 step 1 skipped).
        ;(this as unknown as { startRead(context: string, from: string): void }).startRead(
          message.context,
          message.from,
        )
      },
    )
    const violation = firstViolation('mixed', 600, { read: 0.6 })
    expect(violation?.property).toBe('Linearizable ReadIndex')
  })

  describe("catches a driver that breaks RaftNode's write and send order", () => {
    type Plan = (ready: Ready, saved: HardState | undefined) => ReturnType<typeof planReady>
    const cases: Array<[string, Plan, string[]]> = [
      [
        'appends and heartbeats sent before a new term is durable',
        (ready, saved) => {
          const plan = planReady(ready, saved)
          const early: Message[] = [...plan.early, ...plan.late].filter(
            (message) => message.type === 'append' || message.type === 'heartbeat',
          )
          return { ...plan, early, late: plan.late.filter((message) => !early.includes(message)) }
        },
        ['Durable before send'],
      ],
      [
        'entries of a new term written alongside it, not after it',
        (ready, saved) => ({ ...planReady(ready, saved), hardStateFirst: false }),
        ['Stored term covers stored entries'],
      ],
      [
        'a commit index stored before the entries it covers',
        (ready, saved) => {
          const plan = planReady(ready, saved)
          const hardState =
            plan.hardState !== undefined && ready.hardState !== undefined
              ? ready.hardState
              : plan.hardState
          return { ...plan, hardState }
        },
        ['Durable commit index', 'Loadable disk'],
      ],
    ]
    it.each(cases)('%s', (_, plan, properties) => {
      let violation: InvariantViolation | undefined
      for (const scenario of ['one-voter', 'mixed'] as const) {
        violation ??= firstViolation(scenario, 300, { plan })
      }
      expect(violation).toBeDefined()
      expect(properties).toContain(violation?.property)
    })
  })
})
