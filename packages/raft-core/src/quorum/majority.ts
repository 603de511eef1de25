import type { NodeId } from '../types.ts'

/**
 * Majority quorum maths over a set of voters (Raft paper §5.2, §5.3). Pure functions: no
 * knowledge of terms, logs or roles.
 */

export type VoteResult = 'won' | 'lost' | 'pending'

/**
 * The largest index a majority of `voters` has acknowledged. With no voters, 0: an empty
 * configuration can commit nothing.
 */
export function committedIndex(
  voters: readonly NodeId[],
  acknowledged: (id: NodeId) => number,
): number {
  const count = voters.length
  if (count === 0) {
    return 0
  }
  const indexes = voters.map(acknowledged).sort((a, b) => b - a)
  // The (count/2 + 1)-th largest acknowledgement is held by a majority.
  return indexes[Math.floor(count / 2)] ?? 0
}

/** Whether `votes` (true = granted) already decide an election among `voters`. */
export function voteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const needed = Math.floor(voters.length / 2) + 1
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    const vote = votes.get(id)
    if (vote === true) granted++
    else if (vote === false) rejected++
  }
  if (granted >= needed) return 'won'
  if (voters.length - rejected < needed) return 'lost'
  return 'pending'
}

/** Whether the nodes for which `active` holds form a majority of `voters`. */
export function isQuorum(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  const needed = Math.floor(voters.length / 2) + 1
  let count = 0
  for (const id of voters) {
    if (active(id)) count++
  }
  return voters.length > 0 && count >= needed
}
