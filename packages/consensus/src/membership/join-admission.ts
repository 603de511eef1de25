import { type Configuration, isMember } from '@pinraft/raft-core'
import { JoinInProgressError, JoinNotAllowedError } from '../errors.ts'

/** What the leader does with a request to add a peer. */
export type JoinDecision =
  /** Already a member, with its state: nothing to do. */
  | { readonly kind: 'member' }
  /** A new member: added as staging, promoted to voter once caught up. */
  | { readonly kind: 'add' }
  /** A member that lost its Raft state: removed, then added again as staging. */
  | { readonly kind: 'rejoin' }

export interface JoinRequest {
  readonly peerId: string
  /** The peer says it has no Raft state of its own (a new disk, `state cleanup`, a wipe). */
  readonly freshState: boolean
  /** The configuration in force on the leader (the latest in its log). */
  readonly configuration: Configuration
  /** Peers this leader is adding right now (their change is not in force yet). */
  readonly joining: ReadonlySet<string>
  /** `consensus.raft.join_allow_list`; empty: anyone holding the cluster secret. */
  readonly allowList: readonly string[]
}

/**
 * The leader's admission rule (issue 13 §5). Holding the cluster secret lets a peer ask to join,
 * but: only peers of `join_allow_list` (when set) become members; one join is in progress at a
 * time (a staging member that has not caught up, or an addition not yet in force), so throwaway
 * identities cannot grow the peerset; the others get a retryable `JoinInProgressError`.
 */
export function admitJoin(request: JoinRequest): JoinDecision {
  const { peerId, configuration } = request
  const member = isMember(configuration, peerId)
  if (member && !request.freshState) return { kind: 'member' }
  if (!member && request.allowList.length > 0 && !request.allowList.includes(peerId)) {
    throw new JoinNotAllowedError(
      `${peerId} may not join: it is not in consensus.raft.join_allow_list of the leader; add its peer ID there on every peer (or empty the list) to let it join`,
    )
  }
  const other =
    configuration.staging.find((id) => id !== peerId) ??
    [...request.joining].find((id) => id !== peerId)
  if (other !== undefined) {
    throw new JoinInProgressError(
      `${peerId} cannot join now: ${other} is joining (added, not caught up yet) and the leader adds one peer at a time; retry once it has caught up, or been removed after consensus.raft.staging_timeout or non_voter_timeout`,
    )
  }
  return member ? { kind: 'rejoin' } : { kind: 'add' }
}
