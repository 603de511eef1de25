import type { NodeStatus } from '@pinraft/raft-core'

/** On the leader, every other member's match index and how far it lags behind the log. */
export function replicationOf(
  status: NodeStatus | undefined,
): Record<string, { match: number; lag: number }> {
  const replication: Record<string, { match: number; lag: number }> = {}
  if (status === undefined || status.role !== 'leader') return replication
  for (const [peer, progress] of Object.entries(status.progress)) {
    if (peer === status.id) continue
    replication[peer] = {
      match: progress.match,
      lag: Math.max(0, status.lastIndex - progress.match),
    }
  }
  return replication
}
