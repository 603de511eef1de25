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
  // Insertion sort, largest first: clusters have a handful of voters, and this runs on every
  // acknowledgement, where map + sort with a comparator cost more than the rest of the step.
  const indexes = new Array<number>(count)
  for (let i = 0; i < count; i++) {
    const value = acknowledged(voters[i] as NodeId)
    let j = i
    while (j > 0 && (indexes[j - 1] as number) < value) {
      indexes[j] = indexes[j - 1] as number
      j--
    }
    indexes[j] = value
  }
  // The (count/2 + 1)-th largest acknowledgement is held by a majority.
  return indexes[Math.floor(count / 2)] as number
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
