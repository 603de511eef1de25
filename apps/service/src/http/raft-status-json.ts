import type { Consensus } from '@pinraft/consensus'
import type { LastError } from './last-error.ts'
import { notReadyReason } from './readiness.ts'

/**
 * A member's place in the peerset: `leader`, `voter`, `staging` (a non-voter still catching up
 * to be promoted) or `non-voter`; `none` when the peer is not in the configuration it knows.
 */
export type RaftMembership = 'leader' | 'voter' | 'staging' | 'non-voter' | 'none'

/** One peer's Raft status, as `GET /raft/status` answers it (pinraft's own route). */
export interface RaftStatusJson {
  peer: string
  peername: string
  role: RaftMembership
  /** Raft's own state machine role: `leader`, `follower`, `pre-candidate` or `candidate`. */
  raft_state: string
  /** The leader this peer knows; empty when it knows none. */
  leader: string
  term: number
  commit_index: number
  applied_index: number
  /** Entries of the leader's log this peer lacks; null when nobody could tell. */
  lag: number | null
  ready: boolean
  /** What the peer waits for before it is ready; empty when ready. */
  waiting_for: string
  last_error: string
  /** RFC 3339; empty when there was none. */
  last_error_at: string
  /** On the leader: each other member's `{match, lag}`; empty elsewhere. */
  replication: Record<string, { match: number; lag: number }>
  /** Set (the rest zero) when this peer could not be asked. */
  error: string
}

export function raftStatusJson(fields: Partial<RaftStatusJson> & { peer: string }): RaftStatusJson {
  const { peer, ...rest } = fields
  return {
    peer,
    peername: '',
    role: 'none',
    raft_state: '',
    leader: '',
    term: 0,
    commit_index: 0,
    applied_index: 0,
    lag: null,
    ready: false,
    waiting_for: '',
    last_error: '',
    last_error_at: '',
    replication: {},
    error: '',
    ...rest,
  }
}

/** This peer's Raft status, read from consensus now. */
export function localRaftStatus(
  consensus: Consensus,
  peername: string,
  lastError: LastError | null,
): RaftStatusJson {
  const status = consensus.status()
  const self = consensus.peerId
  const isLeader = status.leader === self && status.role === 'leader'
  const waiting = notReadyReason(consensus) ?? ''
  let role: RaftMembership = 'none'
  if (isLeader) role = 'leader'
  else if (status.voters.includes(self)) role = 'voter'
  // Consensus lists staging members among its non-voters; one not ready yet is still catching
  // up to be promoted, which is what staging means.
  else if (status.nonVoters.includes(self)) role = consensus.isReady ? 'non-voter' : 'staging'
  const replication: Record<string, { match: number; lag: number }> = {}
  for (const [peer, entry] of Object.entries(status.replication))
    replication[peer] = { match: entry.match, lag: entry.lag }
  return raftStatusJson({
    peer: self,
    peername,
    role,
    raft_state: status.role,
    leader: status.leader ?? '',
    term: status.term,
    commit_index: status.commitIndex,
    applied_index: status.appliedIndex,
    lag: isLeader ? 0 : null,
    ready: consensus.isReady && waiting === '',
    waiting_for: waiting,
    last_error: lastError?.message ?? '',
    last_error_at: lastError?.time ?? '',
    replication,
  })
}

/**
 * Fills each member's `lag` from the leader's view: its replication progress when it has one
 * for the member, else how far the member's applied index is behind the leader's commit index.
 */
export function withLeaderLag(statuses: readonly RaftStatusJson[]): RaftStatusJson[] {
  const leader = statuses.find((entry) => entry.error === '' && entry.role === 'leader')
  return statuses.map((entry) => {
    if (entry.error !== '' || leader === undefined) return entry
    if (entry === leader) return { ...entry, lag: 0 }
    const progress = leader.replication[entry.peer]
    const lag =
      progress !== undefined ? progress.lag : Math.max(0, leader.commit_index - entry.applied_index)
    return { ...entry, lag }
  })
}

const membershipRoles: readonly RaftMembership[] = [
  'leader',
  'voter',
  'staging',
  'non-voter',
  'none',
]

/** Checks another peer's answer (it crosses the network) and keeps only the known fields. */
export function parseRaftStatusJson(value: unknown): RaftStatusJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('a Raft status answer must be a JSON object')
  const record = value as Record<string, unknown>
  const text = (key: string): string =>
    typeof record[key] === 'string' ? (record[key] as string) : ''
  const count = (key: string): number =>
    typeof record[key] === 'number' && Number.isSafeInteger(record[key]) && record[key] >= 0
      ? record[key]
      : 0
  const peer = text('peer')
  if (peer === '') throw new TypeError('a Raft status answer must carry its "peer"')
  const role = membershipRoles.find((entry) => entry === record.role) ?? 'none'
  const replication: Record<string, { match: number; lag: number }> = {}
  const rawReplication = record.replication
  if (typeof rawReplication === 'object' && rawReplication !== null) {
    for (const [member, entry] of Object.entries(rawReplication as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) continue
      const { match, lag } = entry as Record<string, unknown>
      if (typeof match === 'number' && typeof lag === 'number') replication[member] = { match, lag }
    }
  }
  return raftStatusJson({
    peer,
    peername: text('peername'),
    role,
    raft_state: text('raft_state'),
    leader: text('leader'),
    term: count('term'),
    commit_index: count('commit_index'),
    applied_index: count('applied_index'),
    lag: typeof record.lag === 'number' ? record.lag : null,
    ready: record.ready === true,
    waiting_for: text('waiting_for'),
    last_error: text('last_error'),
    last_error_at: text('last_error_at'),
    replication,
  })
}
