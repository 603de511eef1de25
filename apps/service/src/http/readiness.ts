import type { Consensus } from '@pinraft/consensus'

/**
 * Why this peer is not ready (for `GET /health/ready` and its log), or null when it is. Uses
 * consensus's own `waitingFor` when its status has one, and otherwise derives the reason from the
 * leader, membership and indexes.
 */
export function notReadyReason(consensus: Consensus): string | null {
  if (consensus.isReady) return null
  const status = consensus.status()
  const waitingFor = (status as { readonly waitingFor?: unknown }).waitingFor
  if (typeof waitingFor === 'string' && waitingFor !== '') return `waiting for ${waitingFor}`
  if (status.leader === null) {
    return 'waiting for a leader: an election is under way, or this peer cannot reach a majority of the peerset (check that every peer has the same cluster.secret and can reach the others)'
  }
  if (!status.voters.includes(consensus.peerId)) {
    return status.nonVoters.includes(consensus.peerId)
      ? `waiting to be promoted to voter: catching up with the leader ${status.leader} (applied ${status.appliedIndex} of ${status.commitIndex})`
      : `waiting to be added to the peerset by the leader ${status.leader}`
  }
  return `catching up with the leader ${status.leader}: applied index ${status.appliedIndex} of ${status.commitIndex}`
}
