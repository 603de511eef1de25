import type { Message } from '../message.ts'
import type { Ready } from '../raft/raw-node.ts'
import type { Entry, HardState } from '../types.ts'

/**
 * How a driver carries out one Ready's writes and sends: what may leave before the disk, what
 * must wait, what to write and in which order. `RaftNode` follows it, and so does the
 * simulation (`sim/simulation.ts`), so the order the simulation checks is the one that runs.
 */
export interface ReadyPlan {
  /**
   * Messages that may leave while the writes are in flight: a leader's appends and heartbeats
   * (thesis §10.2.1; the leader counts its own copy only once durable), and only when the Ready
   * keeps the term and vote already durable. A message of a term not yet on disk could outlive
   * a crash that brings the node back in the older term, free to lead the newer one again with
   * other entries (Log Matching broken). etcd-io/raft holds the same rule.
   */
  readonly early: readonly Message[]
  /** Messages that leave only once every write of the plan is durable. */
  readonly late: readonly Message[]
  /** Entries to append (replacing any stored from the first one's index on). */
  readonly entries: readonly Entry[]
  /** The hard state to write, if any. */
  readonly hardState: HardState | undefined
  /**
   * The hard state must be durable before the entries are written: the term changed, and an
   * entry of a term may never be on disk while the stored term is older (a node restarting with
   * term 5 and entries of term 7 could lead term 6 and append after them).
   */
  readonly hardStateFirst: boolean
}

/**
 * Plans `ready` against `saved`, the hard state known durable.
 *
 * The commit index written is at most the index before the Ready's first entry: the entries and
 * the hard state may be written concurrently, and a stored commit index must never point past
 * the stored log (on load that is corruption: a lost log suffix). A lower stored commit index is
 * harmless; it is learnt again from the leader.
 */
export function planReady(ready: Ready, saved: HardState | undefined): ReadyPlan {
  const hardState = ready.hardState
  const termOrVoteChanged =
    hardState !== undefined &&
    (saved === undefined || hardState.term !== saved.term || hardState.vote !== saved.vote)
  const first = ready.entries[0]
  let write: HardState | undefined
  // The commit index alone need not be durable (etcd-io/raft's MustSync): it is written only
  // along with a change of term or vote, or with entries.
  if (hardState !== undefined && (termOrVoteChanged || first !== undefined)) {
    write =
      first !== undefined && hardState.commit > first.index - 1
        ? { term: hardState.term, vote: hardState.vote, commit: first.index - 1 }
        : hardState
  }
  const early: Message[] = []
  const late: Message[] = []
  for (const message of ready.messages) {
    if (!termOrVoteChanged && (message.type === 'append' || message.type === 'heartbeat')) {
      early.push(message)
    } else {
      late.push(message)
    }
  }
  return {
    early,
    late,
    entries: ready.entries,
    hardState: write,
    hardStateFirst: termOrVoteChanged && first !== undefined,
  }
}
