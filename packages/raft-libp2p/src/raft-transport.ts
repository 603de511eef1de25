import type {
  ComponentLogger,
  Connection,
  Libp2pEvents,
  Logger,
  PeerId,
  Startable,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
  StreamMessageEvent,
  TypedEventTarget,
} from '@libp2p/interface'
import { serviceCapabilities, TypedEventEmitter } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type {
  AbortOptions,
  Message,
  NodeId,
  SnapshotMessage,
  Transport,
  TransportHandler,
} from '@pinraft/raft-core'
import { FrameDecoder } from './codec/framing.ts'
import { decodeMessage, encodeMessage } from './codec/message-codec.ts'
import {
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_MESSAGES,
  DEFAULT_SEND_TIMEOUT,
  DEFAULT_SNAPSHOT_CHUNK_SIZE,
  DEFAULT_SNAPSHOT_TIMEOUT,
  RAFT_PROTOCOL,
  SNAPSHOT_PROTOCOL,
} from './constants.ts'
import {
  FrameTooLargeError,
  InvalidOptionError,
  MalformedFrameError,
  PeerNotAllowedError,
  SnapshotTransferError,
  TransportStoppedError,
} from './errors.ts'
import { type DropReason, PeerSender, type PeerSenderContext } from './peer-sender.ts'
import { receiveSnapshotFromStream } from './snapshot/receive-snapshot.ts'
import { sendSnapshotOverStream } from './snapshot/send-snapshot.ts'

/** The registrar calls the transport makes (libp2p's `Registrar` satisfies it). */
export interface RaftTransportRegistrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
}

/** The connection-manager call the transport makes (libp2p's `ConnectionManager` satisfies it). */
export interface RaftTransportConnectionManager {
  openStream(
    peer: PeerId,
    protocol: string,
    options?: AbortOptions & { runOnLimitedConnection?: boolean },
  ): Promise<Stream>
}

/** The libp2p components the transport uses. */
export interface RaftTransportComponents {
  peerId: PeerId
  registrar: RaftTransportRegistrar
  connectionManager: RaftTransportConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface RaftTransportInit {
  /** Protocol of Raft messages. Default `/pinraft/raft/1.0.0`. */
  protocol?: string
  /** Protocol of snapshot transfers. Default `/pinraft/raft-snapshot/1.0.0`. */
  snapshotProtocol?: string
  /**
   * Largest encoded message or snapshot frame, enforced when sending and when receiving
   * (bytes). Must exceed raft-core's largest append. Default 4 MiB.
   */
  maxMessageSize?: number
  /** Per-peer send queue bound in messages; past it new messages are dropped. Default 4096. */
  maxQueuedMessages?: number
  /** Per-peer send queue bound in bytes. Default 64 MiB. */
  maxQueuedBytes?: number
  /** Most bytes coalesced into one stream write. Default 1 MiB. */
  maxBatchBytes?: number
  /** Time allowed to open a stream, dial included (ms). Default 5000. */
  dialTimeout?: number
  /** Time a stream may refuse data before it is given up as stalled (ms). Default 10000. */
  sendTimeout?: number
  /** Longest a snapshot transfer may go without progress, at either end (ms). Default 30000. */
  snapshotTimeout?: number
  /** Snapshot data chunk size (bytes). Default 256 KiB; must fit in maxMessageSize. */
  snapshotChunkSize?: number
  /** First reconnection delay after a failed dial; doubles per failure (ms). Default 100. */
  backoffInitial?: number
  /** Longest reconnection delay (ms). Default 5000. */
  backoffMax?: number
  /**
   * The peers allowed to drive this node's Raft: normally the members of the current
   * configuration plus a peer being added. Absent, any peer that can connect is allowed (on a
   * private network, only holders of the key can) until `setAllowedPeers` is called.
   */
  allowedPeers?: Iterable<NodeId>
  /** Concurrent inbound streams per connection and protocol. Default 8. */
  maxInboundStreams?: number
}

export interface MessageDroppedDetail {
  readonly peer: NodeId
  /** `outbound`: a message this node sent; `inbound`: one it received. */
  readonly direction: 'inbound' | 'outbound'
  readonly reason: DropReason
  readonly count: number
}

export interface StreamRejectedDetail {
  readonly peer: NodeId
  readonly protocol: string
  /** A `MalformedFrameError`, `FrameTooLargeError` or `PeerNotAllowedError`. */
  readonly error: Error
}

export interface RaftTransportEvents {
  /** Messages were dropped; the reason says why. */
  'message:dropped': CustomEvent<MessageDroppedDetail>
  /** An inbound stream was closed for carrying a bad frame. */
  'stream:rejected': CustomEvent<StreamRejectedDetail>
}

/** raft-core's `Transport` over libp2p, plus the membership filter its owner keeps current. */
export interface RaftTransport extends Transport, TypedEventTarget<RaftTransportEvents> {
  readonly protocol: string
  readonly snapshotProtocol: string
  /**
   * Sets the peers allowed to send Raft messages and snapshots to this node (the members of
   * the current configuration and a peer being added); `null` allows any peer.
   */
  setAllowedPeers(peers: Iterable<NodeId> | null): void
  isAllowed(peer: NodeId): boolean
}

type Limits = Required<
  Omit<RaftTransportInit, 'protocol' | 'snapshotProtocol' | 'allowedPeers' | 'maxInboundStreams'>
>

/**
 * Carries raft-core's messages between libp2p peers. Each node writes to each peer over one
 * long-lived outbound stream and reads each peer's outbound stream to it, so messages between
 * two nodes stay in order per direction. Snapshots take a stream of their own per transfer.
 */
export class RaftLibp2pTransport
  extends TypedEventEmitter<RaftTransportEvents>
  implements RaftTransport, Startable
{
  readonly localId: NodeId
  readonly protocol: string
  readonly snapshotProtocol: string
  readonly [Symbol.toStringTag] = '@pinraft/raft-libp2p'
  readonly [serviceCapabilities]: string[] = ['@pinraft/raft-transport']

  readonly #components: RaftTransportComponents
  readonly #log: Logger
  readonly #limits: Limits
  readonly #maxInboundStreams: number
  readonly #senders = new Map<NodeId, PeerSender>()
  readonly #inbound = new Set<Stream>()
  #allowed: Set<NodeId> | null
  #handler: TransportHandler | undefined
  #started = false
  #stopController = new AbortController()
  readonly #senderContext: PeerSenderContext

  constructor(components: RaftTransportComponents, init: RaftTransportInit = {}) {
    super()
    this.#components = components
    this.#log = components.logger.forComponent('pinraft:raft-libp2p')
    this.localId = components.peerId.toString()
    this.protocol = init.protocol ?? RAFT_PROTOCOL
    this.snapshotProtocol = init.snapshotProtocol ?? SNAPSHOT_PROTOCOL
    const maxMessageSize = positive(init, 'maxMessageSize', DEFAULT_MAX_MESSAGE_SIZE)
    this.#limits = {
      maxMessageSize,
      maxQueuedMessages: positive(init, 'maxQueuedMessages', DEFAULT_MAX_QUEUED_MESSAGES),
      maxQueuedBytes: positive(init, 'maxQueuedBytes', DEFAULT_MAX_QUEUED_BYTES),
      maxBatchBytes: positive(init, 'maxBatchBytes', DEFAULT_MAX_BATCH_BYTES),
      dialTimeout: positive(init, 'dialTimeout', DEFAULT_DIAL_TIMEOUT),
      sendTimeout: positive(init, 'sendTimeout', DEFAULT_SEND_TIMEOUT),
      snapshotTimeout: positive(init, 'snapshotTimeout', DEFAULT_SNAPSHOT_TIMEOUT),
      snapshotChunkSize: positive(
        init,
        'snapshotChunkSize',
        Math.min(DEFAULT_SNAPSHOT_CHUNK_SIZE, maxMessageSize - SNAPSHOT_FRAME_OVERHEAD),
      ),
      backoffInitial: positive(init, 'backoffInitial', DEFAULT_BACKOFF_INITIAL),
      backoffMax: positive(init, 'backoffMax', DEFAULT_BACKOFF_MAX),
    }
    this.#maxInboundStreams = positive(init, 'maxInboundStreams', 8)
    if (this.#limits.snapshotChunkSize + SNAPSHOT_FRAME_OVERHEAD > maxMessageSize) {
      throw new InvalidOptionError(
        `snapshotChunkSize (${this.#limits.snapshotChunkSize}) must be at least ${SNAPSHOT_FRAME_OVERHEAD} bytes below maxMessageSize (${maxMessageSize})`,
      )
    }
    this.#allowed = init.allowedPeers === undefined ? null : new Set(init.allowedPeers)
    this.#senderContext = {
      limits: this.#limits,
      log: this.#log,
      openStream: (peer, signal) =>
        this.#components.connectionManager.openStream(peer, this.protocol, { signal }),
      unreachable: (peer) => this.#reportUnreachable(peer),
      dropped: (peer, reason, count) => this.#dropped(peer, 'outbound', reason, count),
      now: () => performance.now(),
    }
  }

  /** Registers both protocols and starts following peer connections. */
  async start(): Promise<void> {
    if (this.#started) {
      return
    }
    this.#stopController = new AbortController()
    const options: StreamHandlerOptions = {
      maxInboundStreams: this.#maxInboundStreams,
      runOnLimitedConnection: false,
    }
    await this.#components.registrar.handle(this.protocol, this.#onMessageStream, options)
    await this.#components.registrar.handle(this.snapshotProtocol, this.#onSnapshotStream, options)
    this.#components.events.addEventListener('peer:connect', this.#onPeerConnect)
    this.#started = true
  }

  /** Unregisters the protocols, drops every queue and closes every stream. */
  async stop(): Promise<void> {
    if (!this.#started) {
      return
    }
    this.#started = false
    this.#components.events.removeEventListener('peer:connect', this.#onPeerConnect)
    this.#stopController.abort(new TransportStoppedError())
    for (const sender of this.#senders.values()) {
      sender.stop()
    }
    this.#senders.clear()
    for (const stream of this.#inbound) {
      stream.abort(new TransportStoppedError())
    }
    this.#inbound.clear()
    await this.#components.registrar.unhandle(this.protocol)
    await this.#components.registrar.unhandle(this.snapshotProtocol)
  }

  isStarted(): boolean {
    return this.#started
  }

  setHandler(handler: TransportHandler | undefined): void {
    this.#handler = handler
  }

  setAllowedPeers(peers: Iterable<NodeId> | null): void {
    this.#allowed = peers === null ? null : new Set(peers)
  }

  isAllowed(peer: NodeId): boolean {
    return this.#allowed === null || this.#allowed.has(peer)
  }

  send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Uint8Array[]>()
    for (const message of messages) {
      let payload: Uint8Array
      try {
        payload = encodeMessage(message)
      } catch (err) {
        this.#log.error(
          'cannot encode a %s message to %s: %s',
          message.type,
          message.to,
          (err as Error).message,
        )
        continue
      }
      if (payload.byteLength > this.#limits.maxMessageSize) {
        // Raft would resend it forever; this needs a configuration change, so say so loudly.
        this.#log.error(
          'dropping a %s message to %s: %s',
          message.type,
          message.to,
          new FrameTooLargeError(payload.byteLength, this.#limits.maxMessageSize, 'message')
            .message,
        )
        this.#dropped(message.to, 'outbound', 'too-large', 1)
        continue
      }
      let payloads = byPeer.get(message.to)
      if (payloads === undefined) {
        payloads = []
        byPeer.set(message.to, payloads)
      }
      payloads.push(payload)
    }
    for (const [peer, payloads] of byPeer) {
      const sender = this.#sender(peer)
      if (sender === undefined) {
        this.#dropped(peer, 'outbound', this.#started ? 'unreachable' : 'stopped', payloads.length)
        if (this.#started) {
          this.#reportUnreachable(peer)
        }
        continue
      }
      sender.enqueue(payloads)
    }
  }

  async sendSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options: AbortOptions = {},
  ): Promise<void> {
    if (!this.#started) {
      throw new TransportStoppedError()
    }
    let peer: PeerId
    try {
      peer = peerIdFromString(message.to)
    } catch {
      throw new SnapshotTransferError(
        `cannot send a snapshot to ${message.to}: not a libp2p peer ID`,
      )
    }
    const signals = [this.#stopController.signal]
    if (options.signal !== undefined) {
      signals.push(options.signal)
    }
    const signal = AbortSignal.any(signals)
    let stream: Stream
    try {
      stream = await this.#components.connectionManager.openStream(peer, this.snapshotProtocol, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#limits.dialTimeout)]),
      })
    } catch (err) {
      if (options.signal?.aborted === true) {
        throw options.signal.reason
      }
      throw new SnapshotTransferError(
        `cannot open a snapshot stream to ${message.to}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    await sendSnapshotOverStream(stream, message, data, this.#limits, signal, this.#log)
  }

  #sender(peer: NodeId): PeerSender | undefined {
    if (!this.#started) {
      return undefined
    }
    let sender = this.#senders.get(peer)
    if (sender === undefined) {
      let peerId: PeerId
      try {
        peerId = peerIdFromString(peer)
      } catch {
        this.#log.error('cannot send to %s: not a libp2p peer ID', peer)
        return undefined
      }
      sender = new PeerSender(peer, peerId, this.#senderContext)
      this.#senders.set(peer, sender)
    }
    return sender
  }

  #onPeerConnect = (event: CustomEvent<PeerId>): void => {
    this.#senders.get(event.detail.toString())?.connected()
  }

  #onMessageStream = (stream: Stream, connection: Connection): void => {
    const peer = connection.remotePeer.toString()
    const decoder = new FrameDecoder(this.#limits.maxMessageSize)
    let notAllowedLogged = false
    this.#inbound.add(stream)
    // The peer's sends prove it is back: stop any backoff towards it.
    this.#senders.get(peer)?.connected()
    const onMessage = (event: StreamMessageEvent): void => {
      let dropped = 0
      let reason: DropReason = 'not-allowed'
      try {
        for (const payload of decoder.push(event.data)) {
          const message = decodeMessage(payload, peer, this.localId)
          if (message.type === 'snapshot') {
            throw new MalformedFrameError(
              `a snapshot message arrived on ${this.protocol}; snapshots travel on ${this.snapshotProtocol}`,
            )
          }
          if (!this.isAllowed(peer)) {
            dropped++
            reason = 'not-allowed'
            if (!notAllowedLogged) {
              notAllowedLogged = true
              this.#log('dropping Raft messages from %s: not a member of the configuration', peer)
            }
            continue
          }
          const handler = this.#handler
          if (handler === undefined) {
            dropped++
            reason = 'no-handler'
            continue
          }
          try {
            handler.onMessage(message)
          } catch (err) {
            this.#log.error(
              'the Raft handler threw on a %s message: %s',
              message.type,
              (err as Error).message,
            )
          }
        }
      } catch (err) {
        this.#reject(stream, peer, this.protocol, err as Error)
      } finally {
        if (dropped > 0) {
          this.#dropped(peer, 'inbound', reason, dropped)
        }
      }
    }
    stream.addEventListener('message', onMessage)
    // The sender is done with this stream: close our (unused) writable end too.
    stream.addEventListener('remoteCloseWrite', () => {
      void stream.close().catch(() => {})
    })
    stream.addEventListener('close', () => {
      this.#inbound.delete(stream)
    })
  }

  #onSnapshotStream = (stream: Stream, connection: Connection): void => {
    const peer = connection.remotePeer.toString()
    this.#inbound.add(stream)
    stream.addEventListener('close', () => {
      this.#inbound.delete(stream)
    })
    const handler = this.#handler
    let refusal: Error | undefined
    if (!this.isAllowed(peer)) {
      refusal = new PeerNotAllowedError(
        `${peer} is not a member of this node's Raft configuration; its snapshot is refused`,
      )
      this.#log('refusing a snapshot from %s: not a member of the configuration', peer)
      this.#dropped(peer, 'inbound', 'not-allowed', 1)
    } else if (handler === undefined) {
      refusal = new TransportStoppedError('no Raft node is attached to this transport yet')
      this.#dropped(peer, 'inbound', 'no-handler', 1)
    }
    const target: TransportHandler =
      refusal === undefined && handler !== undefined
        ? handler
        : {
            onMessage() {},
            onUnreachable() {},
            onSnapshot: async () => {
              throw refusal
            },
          }
    void receiveSnapshotFromStream(
      stream,
      peer,
      this.localId,
      target,
      this.#limits,
      this.#stopController.signal,
      this.#log,
    )
  }

  #reject(stream: Stream, peer: NodeId, protocol: string, error: Error): void {
    this.#log.error('closing a %s stream from %s: %s', protocol, peer, error.message)
    stream.abort(error)
    this.safeDispatchEvent('stream:rejected', { detail: { peer, protocol, error } })
  }

  /** Reports later, never from inside the caller's `send`: the driver may be mid-Ready there. */
  #reportUnreachable(peer: NodeId): void {
    queueMicrotask(() => {
      try {
        this.#handler?.onUnreachable(peer)
      } catch (err) {
        this.#log.error('the Raft handler threw in onUnreachable: %s', (err as Error).message)
      }
    })
  }

  #dropped(
    peer: NodeId,
    direction: 'inbound' | 'outbound',
    reason: DropReason,
    count: number,
  ): void {
    this.safeDispatchEvent('message:dropped', { detail: { peer, direction, reason, count } })
  }
}

/** What a snapshot chunk frame adds to its data: kind, field tags and lengths, with room. */
const SNAPSHOT_FRAME_OVERHEAD = 32

function positive<K extends keyof RaftTransportInit>(
  init: RaftTransportInit,
  key: K,
  fallback: number,
): number {
  const value = init[key] ?? fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(`${key} must be a positive number; got ${String(value)}`)
  }
  return value
}
