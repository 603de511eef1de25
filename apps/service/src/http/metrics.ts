import type { ConsensusStatus } from '@pinraft/consensus'

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const position = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[position]!
}

function format(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, '')
}

/**
 * The peer's state in Prometheus' text format (version 0.0.4). Commit latencies are a summary
 * over the recent window consensus keeps (operations submitted on this peer), in seconds.
 */
export function prometheusMetrics(status: ConsensusStatus): string {
  const peers = new Set([...status.voters, ...status.nonVoters]).size
  const latencies = [...status.commitLatencies]
    .sort((a, b) => a - b)
    .map((milliseconds) => milliseconds / 1000)
  const sum = latencies.reduce((total, value) => total + value, 0)
  const lines = [
    '# HELP pinraft_raft_leader 1 when this peer is the Raft leader, else 0.',
    '# TYPE pinraft_raft_leader gauge',
    `pinraft_raft_leader ${status.role === 'leader' ? 1 : 0}`,
    '# HELP pinraft_raft_leader_known 1 when this peer knows a leader, else 0.',
    '# TYPE pinraft_raft_leader_known gauge',
    `pinraft_raft_leader_known ${status.leader === null ? 0 : 1}`,
    '# HELP pinraft_raft_term The current Raft term.',
    '# TYPE pinraft_raft_term gauge',
    `pinraft_raft_term ${status.term}`,
    '# HELP pinraft_raft_commit_index The highest log index known to be committed.',
    '# TYPE pinraft_raft_commit_index gauge',
    `pinraft_raft_commit_index ${status.commitIndex}`,
    "# HELP pinraft_raft_applied_index The highest log index applied to this peer's state.",
    '# TYPE pinraft_raft_applied_index gauge',
    `pinraft_raft_applied_index ${status.appliedIndex}`,
    '# HELP pinraft_consensus_ready 1 when consensus is ready (leader known, voter, caught up).',
    '# TYPE pinraft_consensus_ready gauge',
    `pinraft_consensus_ready ${status.ready ? 1 : 0}`,
    "# HELP pinraft_pins Pins in this peer's copy of the shared pinset.",
    '# TYPE pinraft_pins gauge',
    `pinraft_pins ${status.pins}`,
    '# HELP pinraft_peers Members of the peerset (voters and staging peers).',
    '# TYPE pinraft_peers gauge',
    `pinraft_peers ${peers}`,
    '# HELP pinraft_peers_voters Voting members of the peerset.',
    '# TYPE pinraft_peers_voters gauge',
    `pinraft_peers_voters ${status.voters.length}`,
    '# HELP pinraft_commit_latency_seconds Time from submitting an operation on this peer to its commit, over the recent window.',
    '# TYPE pinraft_commit_latency_seconds summary',
    `pinraft_commit_latency_seconds{quantile="0.5"} ${format(quantile(latencies, 0.5))}`,
    `pinraft_commit_latency_seconds{quantile="0.9"} ${format(quantile(latencies, 0.9))}`,
    `pinraft_commit_latency_seconds{quantile="0.99"} ${format(quantile(latencies, 0.99))}`,
    `pinraft_commit_latency_seconds_sum ${format(sum)}`,
    `pinraft_commit_latency_seconds_count ${latencies.length}`,
  ]
  return `${lines.join('\n')}\n`
}
