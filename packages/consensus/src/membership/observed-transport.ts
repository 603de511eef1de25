import type {
  AbortOptions,
  Logger,
  Message,
  NodeId,
  SnapshotMessage,
  Transport,
  TransportHandler,
} from '@pinraft/raft-core'

/** A snapshot this peer is receiving right now. */
export interface IncomingSnapshot {
  readonly from: NodeId
  readonly index: number
  readonly bytes: number
}

export interface ObservedTransportInit {
  readonly transport: Transport
  readonly logger: Logger
  /** Told (rate-limited by the caller) each time a vote request is withheld. */
  readonly onVoteWithheld?: (from: NodeId, type: Message['type']) => void
  readonly now?: () => number
}

/**
 * What consensus puts between Raft and its transport: it records when each peer was last heard
 * from (the leader's bound on non-voting members), withholds this peer's votes while it must not
 * vote (a peer that lost its Raft state), and logs snapshots sent and received with their sizes.
 */
export class ObservedTransport implements Transport {
  readonly localId: NodeId
  private readonly inner: Transport
  private readonly logger: Logger
  private readonly onVoteWithheld: (from: NodeId, type: Message['type']) => void
  private readonly now: () => number
  private readonly heard = new Map<NodeId, number>()
  private incoming: { from: NodeId; index: number; bytes: number } | undefined
  /**
   * While true, vote and pre-vote requests and leadership transfers addressed to this peer are
   * dropped unanswered: see `CatchUpVoteGuard` on why a peer without its old log must not vote.
   */
  withholdVotes = false
  /** How many vote requests were withheld so far. */
  withheldVotes = 0
  /** How many snapshots were sent whole. */
  snapshotsSent = 0

  constructor(init: ObservedTransportInit) {
    this.inner = init.transport
    this.localId = init.transport.localId
    this.logger = init.logger
    this.onVoteWithheld = init.onVoteWithheld ?? (() => {})
    this.now = init.now ?? Date.now
  }

  /** When `peer` last sent this peer anything (a message, or snapshot data flowing to it). */
  lastHeard(peer: NodeId): number | undefined {
    return this.heard.get(peer)
  }

  /** The snapshot being received right now, if any. */
  get incomingSnapshot(): IncomingSnapshot | undefined {
    return this.incoming === undefined ? undefined : { ...this.incoming }
  }

  setHandler(handler: TransportHandler | undefined): void {
    if (handler === undefined) {
      this.inner.setHandler(undefined)
      return
    }
    this.inner.setHandler({
      onMessage: (message) => {
        this.heard.set(message.from, this.now())
        if (
          this.withholdVotes &&
          (message.type === 'vote' || message.type === 'pre-vote' || message.type === 'timeout-now')
        ) {
          this.withheldVotes++
          this.onVoteWithheld(message.from, message.type)
          return
        }
        handler.onMessage(message)
      },
      onSnapshot: (message, data, options) => this.receiveSnapshot(handler, message, data, options),
      onUnreachable: (peer) => handler.onUnreachable(peer),
    })
  }

  send(messages: readonly Message[]): void {
    this.inner.send(messages)
  }

  async sendSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void> {
    const started = this.now()
    let bytes = 0
    const to = message.to
    const self = this
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of data) {
        bytes += chunk.byteLength
        // Data pulled by the stream means the receiver is reading it: it is alive.
        self.heard.set(to, self.now())
        yield chunk
      }
    }
    this.logger.debug('sending a snapshot', {
      to,
      index: message.snapshot.index,
      term: message.snapshot.term,
    })
    try {
      await this.inner.sendSnapshot(message, counted(), options)
    } catch (error) {
      this.logger.debug('sending a snapshot failed', {
        to,
        index: message.snapshot.index,
        bytes,
        error: String(error),
      })
      throw error
    }
    this.snapshotsSent++
    this.logger.debug('snapshot sent', {
      to,
      index: message.snapshot.index,
      term: message.snapshot.term,
      bytes,
      milliseconds: this.now() - started,
    })
  }

  private async receiveSnapshot(
    handler: TransportHandler,
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void> {
    const started = this.now()
    const incoming = { from: message.from, index: message.snapshot.index, bytes: 0 }
    this.incoming = incoming
    const self = this
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of data) {
        incoming.bytes += chunk.byteLength
        self.heard.set(message.from, self.now())
        yield chunk
      }
    }
    this.logger.debug('receiving a snapshot', {
      from: message.from,
      index: message.snapshot.index,
      term: message.snapshot.term,
    })
    try {
      await handler.onSnapshot(message, counted(), options)
      this.logger.debug('snapshot received', {
        from: message.from,
        index: message.snapshot.index,
        term: message.snapshot.term,
        bytes: incoming.bytes,
        milliseconds: this.now() - started,
      })
    } finally {
      if (this.incoming === incoming) this.incoming = undefined
    }
  }
}
