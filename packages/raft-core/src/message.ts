import type { Entry, NodeId, SnapshotMetadata } from './types.ts'

/**
 * Messages between Raft nodes. Every message carries the sender's term (0 for local messages).
 * Naming follows etcd-io/raft: `index`/`logTerm` describe the entry an append follows or the
 * last entry of a candidate's log.
 */
interface Envelope {
  readonly from: NodeId
  readonly to: NodeId
  readonly term: number
}

/** AppendEntries (Raft paper §5.3). Entries follow (`index`, `logTerm`). */
export interface AppendMessage extends Envelope {
  readonly type: 'append'
  readonly index: number
  readonly logTerm: number
  readonly entries: readonly Entry[]
  readonly commit: number
}

/**
 * Accepts up to `index`, or rejects `index` with a hint for fast backtracking: the follower's
 * best guess of the last matching entry (`rejectHint`, of term `logTerm`), thesis §5.3 (the
 * "quick" optimisation etcd-io/raft implements).
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'append-response'
  readonly index: number
  readonly reject: boolean
  readonly rejectHint: number
  readonly logTerm: number
}

export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat'
  readonly commit: number
  /** The newest pending read-index context, so acknowledgements confirm it (thesis §6.4). */
  readonly context: string
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeat-response'
  readonly context: string
}

/** RequestVote (paper §5.2) and the PreVote round before it (thesis §9.6). */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'pre-vote'
  /** Index and term of the candidate's last entry. */
  readonly index: number
  readonly logTerm: number
  /** Set by an election that a leadership transfer started: it may disrupt a live leader. */
  readonly transfer: boolean
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'vote-response' | 'pre-vote-response'
  readonly reject: boolean
}

/**
 * InstallSnapshot (paper §7). Only the metadata travels in the message; the transport streams
 * the data from the leader's snapshot store into the follower's before it delivers the message.
 */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot'
  readonly snapshot: SnapshotMetadata
}

/** Leadership transfer (thesis §3.10): start an election now, without waiting for a timeout. */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeout-now'
}

/** A follower asks the leader for a read index on behalf of its client (thesis §6.4). */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'read-index'
  readonly context: string
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'read-index-response'
  readonly index: number
  readonly context: string
}

/** Everything that travels between nodes. */
export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage

export type MessageType = Message['type']

export const messageTypes: readonly MessageType[] = [
  'append',
  'append-response',
  'heartbeat',
  'heartbeat-response',
  'vote',
  'pre-vote',
  'vote-response',
  'pre-vote-response',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-response',
]

/** True for the messages a node answers with a response of its own. */
export function isResponse(message: Message): boolean {
  switch (message.type) {
    case 'append-response':
    case 'heartbeat-response':
    case 'vote-response':
    case 'pre-vote-response':
    case 'read-index-response':
      return true
    default:
      return false
  }
}
