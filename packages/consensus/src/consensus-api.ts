import type { Pin, PinInput } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'

/** Cancellation for every asynchronous call (js-libp2p's AbortOptions). */
export interface AbortOptions {
  signal?: AbortSignal
}

/** Options of `addPeer`. */
export interface AddPeerOptions extends AbortOptions {
  /**
   * The peer has no Raft state of its own (a new disk, `state cleanup`, a wipe): if it is a
   * member already, the leader re-adds it as staging and sends it a snapshot (a rejoin). A peer
   * adding itself sets it from its own state; a member adding a peer on its behalf (the service
   * join) passes what the joining peer said.
   */
  freshState?: boolean
}

/** The events consensus emits, by name (`noun:verb`). */
export interface ConsensusEvents {
  /** The leader this peer knows changed (null: none known right now). */
  'leader:change': { leader: string | null; term: number }
  /** A peer joined the peerset (it may still be catching up, as a staging member). */
  'peer:add': { peerId: string }
  'peer:remove': { peerId: string }
  /** A pin was applied to this peer's state (new or changed). */
  'pin:add': { pin: Pin }
  'pin:remove': { cid: string }
  /**
   * The whole pinset was replaced (a snapshot was installed): listeners that follow pins one by
   * one must read the state again. `count` is the number of pins after the restore.
   */
  'state:restore': { count: number }
  /** Consensus is ready: a leader is known, this peer votes and has caught up. */
  ready: { peerId: string }
  /**
   * Raft stopped for good after a storage or state machine failure (fail-stop): this peer
   * acknowledges nothing more. Restart the process once the cause (a full disk, say) is fixed.
   */
  'consensus:failed': { error: Error }
}

/** A read-only view of the replicated pinset on this peer. */
export interface PinsetView {
  /**
   * The pin of a CID, by its string in any multibase or by a CID object; the object skips the
   * string's parsing (on the pin path, where the CID is parsed once already).
   */
  get(cid: CID | string): Pin | undefined
  has(cid: CID | string): boolean
  count(): number
  /** All pins, in CID order, streamed. */
  list(options?: AbortOptions): AsyncIterable<Pin>
}

export interface ConsensusStatus {
  readonly peerId: string
  readonly role: 'follower' | 'pre-candidate' | 'candidate' | 'leader'
  readonly leader: string | null
  readonly term: number
  readonly commitIndex: number
  readonly appliedIndex: number
  readonly voters: readonly string[]
  /** Members that receive the log but do not vote yet (staging) or at all. */
  readonly nonVoters: readonly string[]
  readonly pins: number
  readonly ready: boolean
  /**
   * Why this peer cannot serve right now, for an operator (and `/health/ready`): waiting for
   * `a leader: …`, `to be added to the cluster: …`, `to catch up …: index x of y applied`, and so
   * on, with the likely causes. Null when it is ready and knows a leader. Unlike `ready`, which
   * turns true once, this follows the present (a peer that lost its leader waits for one again).
   */
  readonly waitingFor: string | null
  /** This peer has no Raft state of its own yet (it started empty and has not caught up). */
  readonly freshState: boolean
  /** Recent commit latencies of operations submitted on this peer, in milliseconds. */
  readonly commitLatencies: readonly number[]
  /** Operations this peer sent to the leader (it was a follower), since it started. */
  readonly proposalsForwarded: number
  /** Snapshots this peer sent whole to another peer, since it started. */
  readonly snapshotsSent: number
  /**
   * On the leader, each other member's replication: the highest index it is known to hold and
   * how many entries of the leader's log it lacks. Empty on a follower.
   */
  readonly replication: Readonly<Record<string, { readonly match: number; readonly lag: number }>>
}

/**
 * IPFS Cluster's Consensus component (consensus/raft): it keeps the pinset and the peerset.
 * Created on its own and handed to the service, never created inside it.
 *
 * Operations submitted on a follower are forwarded to the leader. An operation is applied at
 * most once even when retried. An error named `OutcomeUnknownError` means the operation may or
 * may not have been applied.
 */
export interface Consensus {
  readonly peerId: string
  addEventListener<K extends keyof ConsensusEvents>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void
  removeEventListener<K extends keyof ConsensusEvents>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
  ): void
  /** Resolves once consensus is ready (for a staging peer: once it is a voter and caught up). */
  ready(options?: AbortOptions): Promise<void>
  readonly isReady: boolean
  /** Replicates a pin; resolves with the pin as stored once it is committed and applied here. */
  logPin(pin: PinInput, options?: AbortOptions): Promise<Pin>
  /** Replicates an unpin; unpinning an absent CID is not an error. */
  logUnpin(cid: string, options?: AbortOptions): Promise<void>
  /**
   * Adds a peer to the peerset (as staging until it has caught up). A member already: no-op,
   * unless `freshState` says it lost its state (then it is re-added as staging). The leader
   * admits one join at a time (`JoinInProgressError`, retryable) and only peers of
   * `join_allow_list` when it is set (`JoinNotAllowedError`).
   */
  addPeer(peerId: string, options?: AddPeerOptions): Promise<void>
  /** Removes a peer; absent: no-op; the last voter: `LastPeerError`. */
  rmPeer(peerId: string, options?: AbortOptions): Promise<void>
  /** This peer's read-only view of the pinset. */
  state(): PinsetView
  /** The current leader's peer ID, waiting up to `wait_for_leader_timeout` for one. */
  leader(options?: AbortOptions): Promise<string>
  /** The peerset (voters and staging members), sorted. */
  peers(options?: AbortOptions): Promise<string[]>
  /** Resolves once a leader is known, this peer votes, and it has applied the leader's commit index. */
  waitForSync(options?: AbortOptions): Promise<void>
  /**
   * A linearizable read point (Raft thesis §6.4, ReadIndex): resolves once this peer has applied
   * everything the leader had committed when it was asked, confirmed by a quorum. Reads of
   * `state()` after it see every write acknowledged before the call. Rejects with
   * `NoLeaderError` when no leader confirms in time.
   */
  readIndex(options?: AbortOptions): Promise<number>
  status(): ConsensusStatus
  /**
   * Calls `listener` with the time each committed operation took to apply to the pinset, in
   * milliseconds (for an apply-latency histogram); returns a function that stops it.
   */
  observeApply(listener: (milliseconds: number) => void): () => void
  /** Stops Raft (snapshotting first if the log grew; leaving the cluster if configured). */
  shutdown(options?: AbortOptions): Promise<void>
  /** Moves the Raft data folder to a rotated backup (keeps `backups_rotate` of them). */
  clean(options?: AbortOptions): Promise<void>
  /** Replaces the agreed pinset with `pins` (leader only). */
  rollback(pins: AsyncIterable<PinInput>, options?: AbortOptions): Promise<void>
}
