import {
  applyConfigurationChange,
  configurationsEqual,
  encodeConfigurationChange,
  isMember,
  isSoleVoter,
  members,
} from '../configuration/configuration.ts'
import {
  ConfigurationChangeError,
  ConfigurationChangeInProgressError,
  LeadershipTransferError,
  NotLeaderError,
  ProposalDroppedError,
} from '../errors.ts'
import { last } from '../last.ts'
import type { Logger } from '../logger.ts'
import type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  ReadIndexMessage,
  SnapshotMessage,
  VoteMessage,
  VoteResponseMessage,
} from '../message.ts'
import { committedIndex, isQuorum, voteResult } from '../quorum/majority.ts'
import { Progress } from '../tracker/progress.ts'
import type {
  Configuration,
  ConfigurationChange,
  Entry,
  EntryType,
  HardState,
  NodeId,
  ReadState,
  Role,
  SnapshotMetadata,
} from '../types.ts'
import type { ResolvedRaftOptions } from './options.ts'
import { entrySize, type RaftLog } from './raft-log.ts'
import { ReadOnly } from './read-only.ts'

/** A local message that goes out without a term: anything the driver must relay as is. */
type Outgoing = Message

/**
 * The Raft state machine: roles, terms, votes, replication and membership (etcd-io/raft's
 * `raft`). Pure and synchronous: it reacts to `step`, `tick` and local requests by changing its
 * state and queueing messages; `RawNode` turns that into `Ready`s.
 */
export class Raft {
  readonly id: NodeId
  readonly options: ResolvedRaftOptions
  private readonly logger: Logger

  /** Invariant: never decreases. */
  term = 0
  /** Who this node voted for in `term`. Invariant: at most one vote per term (paper §5.2). */
  vote: NodeId | null = null
  /** The leader of `term` as far as this node knows. */
  leader: NodeId | null = null
  role: Role = 'follower'
  readonly log: RaftLog
  /**
   * The configuration in force: the latest one in the log, committed or not (thesis §4.1). A
   * node restarting with a stale commit index must not fall back to an older configuration
   * (with fewer voters it could elect itself alone), so configurations are not tied to commit.
   */
  get configuration(): Configuration {
    return this.log.configurations.latest()
  }

  /** Leader only: one entry per member, itself included. */
  readonly progress = new Map<NodeId, Progress>()
  /** Candidate only: the votes received in this election. */
  private readonly votes = new Map<NodeId, boolean>()
  messages: Outgoing[] = []
  readStates: ReadState[] = []

  /** Ticks since the last election timeout reset (for a leader: since the last quorum check). */
  private electionElapsed = 0
  private heartbeatElapsed = 0
  /** Invariant: electionTicks <= randomizedElectionTimeout < 2 × electionTicks. */
  private randomizedElectionTimeout = 0
  /** The node leadership is being handed to, or null. */
  leadTransferee: NodeId | null = null
  /**
   * This leader proposed its own removal: it appends nothing more, so the removal stays the last
   * entry of its log and any remaining voter that holds it can win an election (thesis §4.2.2).
   */
  private removingSelf = false
  /** A removal committed: drop the removed members' progress after the next broadcast. */
  private pruneAfterBroadcast = false
  /**
   * Index of the latest configuration entry this leader appended. A new change is accepted only
   * once it is committed (one change in flight, thesis §4.1).
   */
  private pendingConfigurationIndex = 0
  /** Reads asked before this leader committed an entry of its term (thesis §6.4 step 1). */
  private pendingReadIndex: Array<{ context: string; from: NodeId }> = []
  private readonly readOnly = new ReadOnly()

  constructor(
    id: NodeId,
    options: ResolvedRaftOptions,
    log: RaftLog,
    hardState: HardState | undefined,
  ) {
    if (id === '') {
      throw new ConfigurationChangeError('a Raft node needs a non-empty id')
    }
    this.id = id
    this.options = options
    this.logger = options.logger
    this.log = log
    if (hardState !== undefined) {
      this.term = hardState.term
      this.vote = hardState.vote
    }
    this.becomeFollower(this.term, null)
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed }
  }

  /**
   * Whether this node may become leader: only voters of the latest configuration in its log
   * campaign, and only its voters are counted (paper §5.2, thesis §4.1). Falling back to an
   * older configuration is unsafe: this node's idea of what is committed may be stale by
   * several changes, whose majorities need not overlap (the simulation found such a case).
   */
  promotable(): boolean {
    return this.configuration.voters.includes(this.id)
  }

  // ---------------------------------------------------------------------------------------
  // Role transitions

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = null
    }
    this.leader = null
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.leadTransferee = null
    this.removingSelf = false
    this.pruneAfterBroadcast = false
    this.votes.clear()
    this.progress.clear()
    this.pendingConfigurationIndex = 0
    this.pendingReadIndex = []
    this.readOnly.reset()
  }

  private resetRandomizedElectionTimeout(): void {
    const base = this.options.electionTicks
    const draw = Math.floor(this.options.random() * base)
    this.randomizedElectionTimeout = base + Math.min(Math.max(draw, 0), base - 1)
  }

  becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term)
    this.leader = leader
    this.role = 'follower'
  }

  private becomePreCandidate(): void {
    if (this.role === 'leader') {
      throw new Error('invalid transition: leader to pre-candidate')
    }
    // A pre-candidate changes neither its term nor its vote (thesis §9.6).
    this.votes.clear()
    this.leader = null
    this.role = 'pre-candidate'
  }

  private becomeCandidate(): void {
    if (this.role === 'leader') {
      throw new Error('invalid transition: leader to candidate')
    }
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  private becomeLeader(): void {
    if (this.role === 'follower') {
      throw new Error('invalid transition: follower to leader')
    }
    this.reset(this.term)
    this.leader = this.id
    this.role = 'leader'
    this.trackReplicationMembers()
    const own = this.progress.get(this.id)
    if (own !== undefined) {
      own.match = this.log.stableIndex
      own.becomeReplicate()
      own.recentActive = true
    }
    // Configuration changes wait until everything before this term is applied (a new leader may
    // not know whether its log holds an uncommitted change), and this term's first entry is
    // committed: the fix for single-server changes across leaders (Ongaro, raft-dev 2015).
    this.pendingConfigurationIndex = this.log.lastIndex() + 1
    // A no-op of its own term lets the leader learn what is committed (thesis §6.4).
    this.appendEntries([{ type: 'noop', data: new Uint8Array(0) }])
    this.logger.info('became leader', { id: this.id, term: this.term })
  }

  private newProgress(): Progress {
    const progress = new Progress(
      this.log.lastIndex() + 1,
      this.options.maxInflightMessages,
      this.options.maxInflightBytes,
    )
    return progress
  }

  // ---------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.role === 'leader') {
      this.tickHeartbeat()
    } else {
      this.tickElection()
    }
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      this.campaign(false)
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0
      if (this.options.checkQuorum) {
        if (!this.quorumActive()) {
          this.logger.warn('stepping down: no quorum heard from in an election timeout', {
            id: this.id,
            term: this.term,
          })
          this.becomeFollower(this.term, null)
          return
        }
      }
      if (this.leadTransferee !== null) {
        this.logger.info('leadership transfer timed out', { to: this.leadTransferee })
        this.leadTransferee = null
      }
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.broadcastHeartbeat(this.readOnly.lastPendingContext())
    }
  }

  /** CheckQuorum (thesis §6.2): has a majority of voters been heard from since the last round? */
  private quorumActive(): boolean {
    const active = isQuorum(this.configuration.voters, (id) => {
      if (id === this.id) return true
      return this.progress.get(id)?.recentActive === true
    })
    for (const [id, progress] of this.progress) {
      if (id !== this.id) progress.recentActive = false
    }
    return active
  }

  // ---------------------------------------------------------------------------------------
  // Elections

  /** Starts an election (or a PreVote round), unless this node may not lead. */
  campaign(transfer: boolean): void {
    if (this.role === 'leader') {
      return
    }
    if (!this.promotable()) {
      this.logger.debug('not campaigning: not a voter', { id: this.id })
      return
    }
    if (this.options.preVote && !transfer) {
      this.runElection('pre-vote', false)
    } else {
      this.runElection('vote', transfer)
    }
  }

  private runElection(type: 'vote' | 'pre-vote', transfer: boolean): void {
    let electionTerm: number
    if (type === 'pre-vote') {
      this.becomePreCandidate()
      electionTerm = this.term + 1
    } else {
      this.becomeCandidate()
      electionTerm = this.term
    }
    this.votes.set(this.id, true)
    const result = voteResult(this.configuration.voters, this.votes)
    if (result === 'won') {
      // A single voter wins at once.
      if (type === 'pre-vote') {
        this.runElection('vote', transfer)
      } else {
        this.becomeLeader()
      }
      return
    }
    for (const id of this.configuration.voters) {
      if (id === this.id) continue
      this.send({
        type,
        from: this.id,
        to: id,
        term: electionTerm,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        transfer,
      })
    }
  }

  // ---------------------------------------------------------------------------------------
  // Messages

  private send(message: Message): void {
    this.messages.push(message)
  }

  /** The single entry point for messages from other nodes (etcd-io/raft's Step). */
  step(message: Message): void {
    if (message.to !== this.id) {
      this.logger.debug('dropping message addressed to another node', { to: message.to })
      return
    }
    if (message.term > this.term) {
      if (message.type === 'vote' || message.type === 'pre-vote') {
        // Leader stickiness (thesis §4.2.3, §9.6): while a leader is known to be alive, a
        // disruptive server cannot depose it, unless the leader itself asked for the election.
        const inLease =
          this.options.checkQuorum &&
          this.leader !== null &&
          this.electionElapsed < this.options.electionTicks
        if (inLease && !message.transfer) {
          this.logger.debug('ignoring vote request within leader lease', { from: message.from })
          return
        }
      }
      if (message.type === 'pre-vote') {
        // A pre-vote request does not change our term.
      } else if (message.type === 'pre-vote-response' && !message.reject) {
        // Granted pre-votes carry the future term; we adopt it only by winning.
      } else if (
        message.type === 'append' ||
        message.type === 'heartbeat' ||
        message.type === 'snapshot'
      ) {
        this.becomeFollower(message.term, message.from)
      } else {
        this.becomeFollower(message.term, null)
      }
    } else if (message.term < this.term) {
      if (
        (this.options.checkQuorum || this.options.preVote) &&
        (message.type === 'heartbeat' || message.type === 'append')
      ) {
        // A stale leader cut off by a partition: tell it the term so it steps down. Without
        // this, with PreVote or CheckQuorum it could keep disrupting nothing and never learn.
        this.send({
          type: 'append-response',
          from: this.id,
          to: message.from,
          term: this.term,
          index: 0,
          reject: false,
          rejectHint: 0,
          logTerm: 0,
        })
      } else if (message.type === 'pre-vote') {
        this.send({
          type: 'pre-vote-response',
          from: this.id,
          to: message.from,
          term: this.term,
          reject: true,
        })
      }
      return
    }

    if (message.type === 'vote' || message.type === 'pre-vote') {
      this.handleVoteRequest(message)
      return
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(message)
        return
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(message)
        return
      case 'follower':
        this.stepFollower(message)
        return
    }
  }

  private handleVoteRequest(message: VoteMessage): void {
    const canVote =
      this.vote === message.from ||
      (this.vote === null && this.leader === null) ||
      (message.type === 'pre-vote' && message.term > this.term)
    const responseType = message.type === 'vote' ? 'vote-response' : 'pre-vote-response'
    if (canVote && this.log.isUpToDate(message.index, message.logTerm)) {
      this.send({
        type: responseType,
        from: this.id,
        to: message.from,
        term: message.term,
        reject: false,
      })
      if (message.type === 'vote') {
        this.electionElapsed = 0
        this.vote = message.from
      }
    } else {
      this.send({
        type: responseType,
        from: this.id,
        to: message.from,
        term: this.term,
        reject: true,
      })
    }
  }

  private stepFollower(message: Message): void {
    switch (message.type) {
      case 'append':
        this.electionElapsed = 0
        this.leader = message.from
        this.handleAppend(message)
        return
      case 'heartbeat':
        this.electionElapsed = 0
        this.leader = message.from
        this.handleHeartbeat(message)
        return
      case 'snapshot':
        this.electionElapsed = 0
        this.leader = message.from
        this.handleSnapshot(message)
        return
      case 'timeout-now':
        this.logger.info('leadership handed over: campaigning now', {
          id: this.id,
          from: message.from,
        })
        this.campaign(true)
        return
      case 'read-index-response':
        this.readStates.push({ index: message.index, context: message.context })
        return
      case 'read-index':
        // Only the leader answers reads; the asker will retry against it.
        return
      default:
        return
    }
  }

  private stepCandidate(message: Message): void {
    switch (message.type) {
      case 'append':
        this.becomeFollower(message.term, message.from)
        this.handleAppend(message)
        return
      case 'heartbeat':
        this.becomeFollower(message.term, message.from)
        this.handleHeartbeat(message)
        return
      case 'snapshot':
        this.becomeFollower(message.term, message.from)
        this.handleSnapshot(message)
        return
      case 'vote-response':
      case 'pre-vote-response':
        this.handleVoteResponse(message)
        return
      default:
        return
    }
  }

  private handleVoteResponse(message: VoteResponseMessage): void {
    const expected = this.role === 'pre-candidate' ? 'pre-vote-response' : 'vote-response'
    if (message.type !== expected) {
      return
    }
    this.votes.set(message.from, !message.reject)
    const result = voteResult(this.configuration.voters, this.votes)
    if (result === 'won') {
      if (this.role === 'pre-candidate') {
        this.runElection('vote', false)
      } else {
        this.becomeLeader()
        this.broadcastAppend()
      }
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null)
    }
  }

  private handleAppend(message: AppendMessage): void {
    if (message.index < this.log.committed) {
      this.sendAppendResponse(message.from, this.log.committed, false, 0, 0)
      return
    }
    const previous = this.configuration
    const lastNew = this.log.maybeAppend(
      message.index,
      message.logTerm,
      message.commit,
      message.entries,
    )
    this.configurationChanged(previous)
    if (lastNew !== undefined) {
      this.sendAppendResponse(message.from, lastNew, false, 0, 0)
      return
    }
    const hintIndex = this.log.findConflictByTerm(
      Math.min(message.index, this.log.lastIndex()),
      message.logTerm,
    )
    const hintTerm = this.log.term(hintIndex) ?? 0
    this.sendAppendResponse(message.from, message.index, true, hintIndex, hintTerm)
  }

  private sendAppendResponse(
    to: NodeId,
    index: number,
    reject: boolean,
    rejectHint: number,
    logTerm: number,
  ): void {
    this.send({
      type: 'append-response',
      from: this.id,
      to,
      term: this.term,
      index,
      reject,
      rejectHint,
      logTerm,
    })
  }

  private handleHeartbeat(message: HeartbeatMessage): void {
    // The leader sends at most what it knows we have, so this never passes our log's end.
    this.log.commitTo(Math.min(message.commit, this.log.lastIndex()))
    const response: HeartbeatResponseMessage = {
      type: 'heartbeat-response',
      from: this.id,
      to: message.from,
      term: this.term,
      context: message.context,
    }
    this.send(response)
  }

  private handleSnapshot(message: SnapshotMessage): void {
    const snapshot = message.snapshot
    if (this.restore(snapshot)) {
      this.logger.info('installing snapshot from leader', {
        index: snapshot.index,
        term: snapshot.term,
      })
      this.sendAppendResponse(message.from, this.log.lastIndex(), false, 0, 0)
    } else {
      this.sendAppendResponse(message.from, this.log.committed, false, 0, 0)
    }
  }

  /** Installs a snapshot unless this log already holds everything it covers (paper §7). */
  private restore(snapshot: SnapshotMetadata): boolean {
    if (snapshot.index <= this.log.committed) {
      return false
    }
    if (this.log.matchTerm(snapshot.index, snapshot.term)) {
      // Our log already has the snapshot's last entry: only the commit index moves.
      this.log.commitTo(snapshot.index)
      return false
    }
    const previous = this.configuration
    this.log.restore(snapshot)
    this.configurationChanged(previous)
    return true
  }

  // ---------------------------------------------------------------------------------------
  // Leader

  private stepLeader(message: Message): void {
    const progress = this.progress.get(message.from)
    switch (message.type) {
      case 'append-response':
        if (progress !== undefined) this.handleAppendResponse(message, progress)
        return
      case 'heartbeat-response':
        if (progress !== undefined) this.handleHeartbeatResponse(message, progress)
        return
      case 'read-index':
        this.handleReadIndexRequest(message)
        return
      default:
        return
    }
  }

  private handleAppendResponse(message: AppendResponseMessage, progress: Progress): void {
    progress.recentActive = true
    if (message.reject) {
      let nextProbe = message.rejectHint
      if (message.logTerm > 0) {
        nextProbe = this.log.findConflictByTerm(message.rejectHint, message.logTerm)
      }
      if (progress.maybeDecreaseTo(message.index, nextProbe)) {
        if (progress.state === 'replicate') {
          progress.becomeProbe()
        }
        this.sendAppend(message.from, progress, true)
      }
      return
    }
    const wasPaused = progress.isPaused()
    if (progress.maybeUpdate(message.index)) {
      if (progress.state === 'probe') {
        progress.becomeReplicate()
      } else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) {
        progress.becomeProbe()
        progress.becomeReplicate()
      } else if (progress.state === 'replicate') {
        progress.inflights.freeLE(message.index)
      }
      if (this.maybeCommit()) {
        this.broadcastAppend()
      } else if (wasPaused) {
        this.sendAppend(message.from, progress, false)
      }
      // Send whatever else is waiting, as far as flow control allows.
      this.sendAppend(message.from, progress, false)
      if (message.from === this.leadTransferee && progress.match === this.log.lastIndex()) {
        this.sendTimeoutNow(message.from)
      }
      this.maybePromote(message.from, progress)
    } else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) {
      progress.becomeProbe()
      this.sendAppend(message.from, progress, false)
    }
  }

  private handleHeartbeatResponse(message: HeartbeatResponseMessage, progress: Progress): void {
    progress.recentActive = true
    progress.probeSent = false
    if (progress.match < this.log.lastIndex() || progress.state === 'probe') {
      // Sent even when the inflights window is full and even if empty: if every append that
      // filled the window was lost, the follower's rejection of this one starts the recovery
      // (etcd-io/raft does the same).
      this.sendAppend(message.from, progress, true, true)
    }
    this.maybePromote(message.from, progress)
    if (message.context === '') {
      return
    }
    const acknowledged = this.readOnly.acknowledge(message.from, message.context)
    if (acknowledged === undefined) {
      return
    }
    if (isQuorum(this.configuration.voters, (id) => acknowledged.has(id))) {
      for (const read of this.readOnly.release(message.context)) {
        this.answerRead(read.context, read.from, read.index)
      }
    }
  }

  /**
   * Sends appends to `to` from its next index, as many messages as flow control allows (one in
   * probe state). With `sendIfEmpty`, an empty append still goes out to carry the commit index.
   */
  private sendAppend(
    to: NodeId,
    progress: Progress,
    sendIfEmpty: boolean,
    evenIfFull = false,
  ): void {
    if (to === this.id) {
      return
    }
    let first = true
    while (!progress.isPaused() || (first && evenIfFull && progress.state === 'replicate')) {
      const previousIndex = progress.next - 1
      const previousTerm = this.log.term(previousIndex)
      const entries = this.log.slice(
        progress.next,
        this.options.maxEntriesPerMessage,
        this.options.maxBytesPerMessage,
      )
      if (previousTerm === undefined || entries === undefined) {
        this.sendSnapshot(to, progress)
        return
      }
      if (entries.length === 0 && !(sendIfEmpty && first)) {
        return
      }
      let bytes = 0
      for (const entry of entries) bytes += entrySize(entry)
      this.send({
        type: 'append',
        from: this.id,
        to,
        term: this.term,
        index: previousIndex,
        logTerm: previousTerm,
        entries,
        commit: this.log.committed,
      })
      const lastEntry = last(entries)
      progress.sentEntries(lastEntry?.index ?? previousIndex, bytes, entries.length)
      first = false
      if (progress.state !== 'replicate' || entries.length === 0) {
        return
      }
    }
  }

  private sendSnapshot(to: NodeId, progress: Progress): void {
    if (!progress.recentActive) {
      // Snapshots are expensive: wait until the follower shows it is alive.
      return
    }
    const snapshot = this.log.snapshot
    if (snapshot === undefined) {
      this.logger.error('a follower needs entries that were compacted, and no snapshot is known', {
        to,
      })
      return
    }
    progress.becomeSnapshot(snapshot.index)
    this.logger.info('sending snapshot', { to, index: snapshot.index, term: snapshot.term })
    this.send({ type: 'snapshot', from: this.id, to, term: this.term, snapshot })
  }

  private broadcastAppend(): void {
    for (const [id, progress] of this.progress) {
      if (id !== this.id) this.sendAppend(id, progress, true)
    }
    if (this.pruneAfterBroadcast) {
      this.pruneAfterBroadcast = false
      this.trackReplicationMembers()
    }
  }

  private broadcastHeartbeat(context: string): void {
    for (const [id, progress] of this.progress) {
      if (id === this.id) continue
      this.send({
        type: 'heartbeat',
        from: this.id,
        to: id,
        term: this.term,
        // Never more than the follower is known to have, so it cannot commit what it lacks.
        commit: Math.min(progress.match, this.log.committed),
        context,
      })
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeout-now', from: this.id, to, term: this.term })
  }

  /**
   * Advances the commit index to what a majority of voters holds, but only by counting
   * replicas of an entry of the current term (paper §5.4.2, thesis §3.6.2).
   */
  maybeCommit(): boolean {
    const index = committedIndex(
      this.configuration.voters,
      (id) => this.progress.get(id)?.match ?? 0,
    )
    if (index > this.log.committed && this.log.term(index) === this.term) {
      this.log.commitTo(index)
      if (this.removingSelf && !this.log.configurations.at(index).voters.includes(this.id)) {
        // Its removal is committed: hand over and step down (thesis §4.2.2).
        this.handOverAfterRemoval()
        return false
      }
      // Members removed by a change that is now committed get this commit index once more (so
      // they know their removal is final and never campaign), then no more appends.
      const tracked =
        members(this.configuration).length + (isMember(this.configuration, this.id) ? 0 : 1)
      if (this.progress.size > tracked) this.pruneAfterBroadcast = true
      if (this.pendingReadIndex.length > 0 && this.committedInCurrentTerm()) {
        const pending = this.pendingReadIndex
        this.pendingReadIndex = []
        for (const read of pending) this.startRead(read.context, read.from)
      }
      return true
    }
    return false
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term
  }

  /** A staging member that has caught up with the commit index becomes a voter. */
  private maybePromote(id: NodeId, progress: Progress): void {
    if (
      !this.configuration.staging.includes(id) ||
      this.leadTransferee !== null ||
      this.removingSelf
    ) {
      return
    }
    if (
      this.pendingConfigurationIndex > this.log.committed ||
      progress.match < this.log.committed
    ) {
      return
    }
    this.logger.info('staging member caught up: promoting it to voter', {
      id,
      match: progress.match,
    })
    this.appendConfigurationChange({ type: 'promote', node: id })
  }

  /** Called once the entries up to `index` are persisted locally. */
  persisted(): void {
    if (this.role !== 'leader') return
    const own = this.progress.get(this.id)
    if (own?.maybeUpdate(this.log.stableIndex)) {
      if (this.maybeCommit()) {
        this.broadcastAppend()
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Local requests

  /** Appends commands to the leader's log. Returns the index of the first one. */
  propose(
    data: readonly Uint8Array[],
    type: EntryType = 'normal',
  ): { index: number; term: number } {
    this.checkCanPropose('proposing')
    const limit = this.options.maxUncommittedEntries
    if (limit > 0 && this.log.lastIndex() - this.log.committed + data.length > limit) {
      throw new ProposalDroppedError(
        `more than ${limit} entries are waiting to commit; retry once the cluster catches up`,
      )
    }
    const index = this.log.lastIndex() + 1
    const term = this.term
    const entries: Entry[] = new Array(data.length)
    for (let offset = 0; offset < data.length; offset++) {
      entries[offset] = { index: index + offset, term, type, data: data[offset] as Uint8Array }
    }
    this.log.append(entries)
    this.broadcastAppend()
    return { index, term: this.term }
  }

  private checkCanPropose(operation: string): void {
    if (this.role !== 'leader') {
      throw new NotLeaderError(this.leader, operation)
    }
    if (this.leadTransferee !== null) {
      throw new ProposalDroppedError(
        `leadership is being transferred to ${this.leadTransferee}; retry against the new leader`,
      )
    }
    if (this.removingSelf) {
      throw new ProposalDroppedError(
        'this leader is removing itself from the cluster; retry against the next leader',
      )
    }
  }

  /**
   * Proposes a configuration change. Returns null when it would change nothing; throws when a
   * change is already in flight or the change breaks a rule.
   */
  proposeConfigurationChange(change: ConfigurationChange): { index: number; term: number } | null {
    this.checkCanPropose('changing the configuration')
    if (change.type === 'bootstrap') {
      throw new ConfigurationChangeError(
        'bootstrap is only valid as the first entry of a new cluster',
      )
    }
    if (
      change.type === 'remove' &&
      change.node === this.id &&
      this.configuration.voters.length === 2 &&
      this.configuration.voters.includes(this.id)
    ) {
      // If this leader appended its own removal and crashed before the other voter had it, the
      // other could never be elected (its log is shorter) and this one may not campaign (it is
      // removed in its own log): the two-voter cluster would be stuck for good.
      throw new ConfigurationChangeError(
        'a leader cannot remove itself from a two-voter cluster: transfer leadership to the other voter first, then remove this node there',
      )
    }
    if (this.pendingConfigurationIndex > this.log.committed) {
      throw new ConfigurationChangeInProgressError(
        'another configuration change is not committed yet; retry once it is (one change at a time)',
      )
    }
    const next = applyConfigurationChange(this.configuration, change)
    if (next === this.configuration || configurationsEqual(next, this.configuration)) {
      return null
    }
    const index = this.appendConfigurationChange(change)
    this.broadcastAppend()
    return { index, term: this.term }
  }

  private appendConfigurationChange(change: ConfigurationChange): number {
    const index = this.log.lastIndex() + 1
    const previous = this.configuration
    this.appendEntries([{ type: 'configuration', data: encodeConfigurationChange(change) }])
    this.pendingConfigurationIndex = index
    this.configurationChanged(previous)
    return index
  }

  private appendEntries(entries: ReadonlyArray<{ type: EntryType; data: Uint8Array }>): void {
    let index = this.log.lastIndex()
    const full: Entry[] = entries.map((entry) => ({
      index: ++index,
      term: this.term,
      type: entry.type,
      data: entry.data,
    }))
    this.log.append(full)
  }

  /**
   * Reacts to a change of the configuration in force (an entry appended, a suffix truncated, a
   * snapshot restored): a leader tracks the new members and recounts its quorum; a candidate
   * that is no longer a voter gives up.
   */
  private configurationChanged(previous: Configuration): void {
    const next = this.configuration
    if (next === previous) return
    if (this.role !== 'leader') {
      if (this.role !== 'follower' && !this.promotable()) {
        this.becomeFollower(this.term, null)
      }
      return
    }
    this.trackReplicationMembers()
    if (this.leadTransferee !== null && !next.voters.includes(this.leadTransferee)) {
      this.leadTransferee = null
    }
    if (!next.voters.includes(this.id)) {
      // Removed: it still leads until the removal commits, but appends nothing more, so the
      // removal stays the last entry of its log (thesis §4.2.2).
      this.removingSelf = true
    }
    // The quorum changed: entries may now be committed, and new members need appends.
    if (this.maybeCommit()) {
      this.broadcastAppend()
    } else {
      const before = members(previous)
      for (const id of members(next)) {
        if (!before.includes(id)) {
          const progress = this.progress.get(id)
          if (progress !== undefined) this.sendAppend(id, progress, true)
        }
      }
    }
  }

  /**
   * The leader replicates to the members of the latest configuration and, until a removal
   * commits, to the members it removes: a removed node then learns from its own log that it is
   * removed, instead of timing out and campaigning.
   */
  private trackReplicationMembers(): void {
    const wanted = new Set([
      ...members(this.configuration),
      ...members(this.log.configurations.at(this.log.committed)),
    ])
    for (const id of wanted) {
      if (!this.progress.has(id)) {
        // Probing starts right after the leader's last entry and backs off from there.
        this.progress.set(id, this.newProgress())
      }
    }
    for (const id of [...this.progress.keys()]) {
      if (!wanted.has(id) && id !== this.id) this.progress.delete(id)
    }
  }

  /**
   * This leader was removed from the configuration: it hands leadership to the most up-to-date
   * voter and steps down (thesis §4.2.2).
   */
  private handOverAfterRemoval(): void {
    let best: NodeId | null = null
    let bestMatch = -1
    for (const id of this.configuration.voters) {
      const match = this.progress.get(id)?.match ?? 0
      if (match > bestMatch) {
        best = id
        bestMatch = match
      }
    }
    // Make sure every remaining member learns the commit index of the removal.
    this.broadcastAppend()
    if (best !== null && bestMatch === this.log.lastIndex()) {
      this.sendTimeoutNow(best)
    }
    this.logger.info('removed from the configuration: stepping down', {
      id: this.id,
      successor: best,
    })
    this.becomeFollower(this.term, null)
  }

  /** Starts a leadership transfer to `to` (thesis §3.10). */
  transferLeadership(to: NodeId): void {
    if (this.role !== 'leader') {
      throw new NotLeaderError(this.leader, 'transferring leadership')
    }
    if (to === this.id) {
      return
    }
    if (!this.configuration.voters.includes(to)) {
      throw new LeadershipTransferError(`cannot transfer leadership to ${to}: it is not a voter`)
    }
    if (this.leadTransferee === to) {
      return
    }
    const progress = this.progress.get(to)
    if (progress === undefined) {
      throw new LeadershipTransferError(
        `cannot transfer leadership to ${to}: no replication state for it`,
      )
    }
    this.leadTransferee = to
    // The transfer must finish within an election timeout, or it is abandoned.
    this.electionElapsed = 0
    if (progress.match === this.log.lastIndex()) {
      this.sendTimeoutNow(to)
    } else {
      this.sendAppend(to, progress, true)
    }
  }

  /**
   * Asks for a linearizable read point (thesis §6.4). The answer arrives as a `ReadState` with
   * the same context; if the leader changes first, it never arrives and the caller retries.
   */
  readIndex(context: string): void {
    if (this.role !== 'leader') {
      if (this.leader === null) {
        throw new NotLeaderError(null, 'a linearizable read')
      }
      const request: ReadIndexMessage = {
        type: 'read-index',
        from: this.id,
        to: this.leader,
        term: this.term,
        context,
      }
      this.send(request)
      return
    }
    this.handleReadIndexRequest({
      type: 'read-index',
      from: this.id,
      to: this.id,
      term: this.term,
      context,
    })
  }

  private handleReadIndexRequest(message: ReadIndexMessage): void {
    if (!this.committedInCurrentTerm()) {
      // Until its no-op commits, the leader does not know the commit index (thesis §6.4).
      this.pendingReadIndex.push({ context: message.context, from: message.from })
      return
    }
    this.startRead(message.context, message.from)
  }

  private startRead(context: string, from: NodeId): void {
    const index = this.log.committed
    if (isSoleVoter(this.configuration, this.id)) {
      this.answerRead(context, from, index)
      return
    }
    this.readOnly.add(index, context, from)
    this.readOnly.acknowledge(this.id, context)
    this.broadcastHeartbeat(context)
  }

  private answerRead(context: string, from: NodeId, index: number): void {
    if (from === this.id) {
      this.readStates.push({ index, context })
    } else {
      this.send({
        type: 'read-index-response',
        from: this.id,
        to: from,
        term: this.term,
        index,
        context,
      })
    }
  }

  /** The transport could not reach `id`: stop pipelining to it until it answers. */
  reportUnreachable(id: NodeId): void {
    const progress = this.progress.get(id)
    if (this.role === 'leader' && progress !== undefined && progress.state === 'replicate') {
      progress.becomeProbe()
    }
    if (this.role === 'follower' && id === this.leader) {
      // The connection to the leader is gone: stop honouring its lease (so this node grants
      // the pre-votes of others who lost it too) and campaign soon, instead of up to two
      // election timeouts later. The remaining voters take turns by rank, so those that all
      // saw the leader go do not split the vote. Only liveness changes: a follower still
      // connected to a live leader keeps its lease and refuses, and the leader and vote of this
      // term are kept, so no second vote in the term is possible.
      const base = this.options.electionTicks
      const stagger = Math.max(1, Math.floor(base / 4))
      const rank = this.configuration.voters.filter((voter) => voter !== id).indexOf(this.id)
      this.electionElapsed = Math.max(this.electionElapsed, base)
      this.randomizedElectionTimeout = this.electionElapsed + 1 + (Math.max(rank, 0) % 4) * stagger
    }
  }

  /** The outcome of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, outcome: 'finished' | 'failed'): void {
    const progress = this.progress.get(id)
    if (this.role !== 'leader' || progress === undefined || progress.state !== 'snapshot') {
      return
    }
    if (outcome === 'failed') {
      // Retry from what is known to match; the next heartbeat response resumes probing.
      progress.pendingSnapshot = 0
    }
    progress.becomeProbe()
    progress.probeSent = true
  }
}
