import type { SimulationOptions, SimulationResult } from './simulation.ts'
import { simulate } from './simulation.ts'

/**
 * Named fault profiles. Each biases the simulation towards a path that plain random faults
 * reach rarely; `scenarioFor(seed)` spreads seeds over them, so every run covers each.
 */
export const scenarios = {
  /** Everything at a low rate: 3 to 7 nodes, 3 to 5 voters. */
  mixed: (seed: number): Partial<SimulationOptions> => {
    const nodes = 3 + (seed % 5)
    return { nodes, initialVoters: Math.min(nodes, 3 + (seed % 3)) }
  },
  /**
   * Raft's Figure 8: leaders crash soon after appending, with entries reaching only some
   * followers, so a new leader finds older-term entries on a majority it must not count.
   */
  'figure-8': (): Partial<SimulationOptions> => ({
    nodes: 5,
    initialVoters: 5,
    // One entry per append, delivered promptly or lost: a majority can hold an older term's
    // entry without the new leader's first entry behind it, which is when counting replicas
    // would commit it.
    maxEntriesPerMessage: 1,
    maxUncommittedEntries: 16,
    maxDelay: 0,
    leaderCrash: 0.15,
    leaderLoss: 0.6,
    crash: 0.02,
    partition: 0,
    membershipChange: 0,
    transfer: 0,
    compaction: 0.005,
    downTicks: [3, 15],
  }),
  /** A small inflight window that fills: one entry per append, two appends unacknowledged. */
  inflight: (seed: number): Partial<SimulationOptions> => ({
    nodes: 3 + (seed % 3),
    initialVoters: 3,
    maxInflightMessages: 1 + (seed % 2),
    maxEntriesPerMessage: 1,
    // Clients propose faster than a window of one drains: the backlog is bounded, as in use.
    maxUncommittedEntries: 24,
    loss: 0.15,
    maxDelay: 4,
  }),
  /** New leaders change the configuration at once, and leaders crash often. */
  'first-change': (seed: number): Partial<SimulationOptions> => ({
    nodes: 5 + (seed % 2),
    initialVoters: 3,
    changeAfterElection: 1,
    membershipChange: 0.05,
    leaderCrash: 0.04,
    leaderLoss: 0.2,
  }),
  /** Removals of the leader itself, re-added later. */
  'remove-leader': (seed: number): Partial<SimulationOptions> => ({
    nodes: 5,
    initialVoters: 3 + (seed % 3),
    membershipChange: 0.06,
    removeLeader: 0.6,
  }),
  /**
   * One voter with non-voters, staging members joining: the voter wins an election in one
   * step, so its first Ready carries a new term and appends of it.
   */
  'one-voter': (seed: number): Partial<SimulationOptions> => ({
    nodes: 3 + (seed % 3),
    initialVoters: 1,
    initialNonVoters: 1 + (seed % 2),
    membershipChange: 0.01,
    cutCrash: 0.05,
    crash: 0.02,
    // A learner restarts with a term ahead of the voter's: the voter steps down, and its
    // election may come while that write is still under way (issue 13's reproduction).
    learnerTermJump: 0.5,
    writeStall: 0.05,
  }),
} satisfies Record<string, (seed: number) => Partial<SimulationOptions>>

export type ScenarioName = keyof typeof scenarios

export const scenarioNames = Object.keys(scenarios) as ScenarioName[]

/** The scenario a seed runs when none is named: seeds cycle through them all. */
export function scenarioFor(seed: number): ScenarioName {
  return scenarioNames[seed % scenarioNames.length] as ScenarioName
}

/**
 * Runs `seed` under its scenario (or the one named) and returns its result; a failure's
 * message ends with the command that replays it.
 */
export function simulateSeed(
  seed: number,
  overrides: Partial<Omit<SimulationOptions, 'seed'>> & { scenario?: ScenarioName } = {},
): SimulationResult & { scenario: ScenarioName } {
  const { scenario = scenarioFor(seed), ...rest } = overrides
  try {
    return { ...simulate({ seed, ...scenarios[scenario](seed), ...rest }), scenario }
  } catch (error) {
    if (error instanceof Error) {
      const ticks = rest.ticks !== undefined ? ` --ticks ${rest.ticks}` : ''
      error.message = `${error.message}\n  scenario ${scenario}; replay: pnpm --filter @pinraft/raft-core sim --seed ${seed} --scenario ${scenario}${ticks}`
    }
    throw error
  }
}
