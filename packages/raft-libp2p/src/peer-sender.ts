import type { Logger, PeerId, Stream, StreamCloseEvent } from '@libp2p/interface'
import type { NodeId } from '@pinraft/raft-core'
import { encodeFrames, varintLength } from './codec/framing.ts'
import { TimeoutError, TransportStoppedError } from './errors.ts'

/** Why messages to or from a peer were dropped (the `message:dropped` event). */
export type DropReason =
  | 'unreachable'
  | 'queue-full'
  | 'too-large'
  | 'stopped'
  | 'not-allowed'
  | 'no-handler'

export interface PeerSenderLimits {
  maxQueuedMessages: number
  maxQueuedBytes: number
  maxBatchBytes: number
  dialTimeout: number
  sendTimeout: number
  backoffInitial: number
  backoffMax: number
}

/** What a sender needs from the transport that owns it. */
export interface PeerSenderContext {
  readonly limits: PeerSenderLimits
  readonly log: Logger
  openStream(peer: PeerId, signal: AbortSignal): Promise<Stream>
  /** Reports that messages to the peer were lost; the transport tells raft-core. */
  unreachable(peer: NodeId): void
  dropped(peer: NodeId, reason: DropReason, count: number): void
  now(): number
}

/**
 * The outbound half of the link to one peer: a queue of encoded messages drained through one
 * long-lived stream. Messages queued in the same tick leave in one write; while the stream
 * needs draining, new messages wait in the (bounded) queue. A failed dial drops what is
 * queued and starts a backoff during which messages are dropped at once, until the backoff
 * expires or the peer connects again.
 */
export class PeerSender {
  readonly id: NodeId
  readonly #peer: PeerId
  readonly #context: PeerSenderContext
  #queue: Uint8Array[] = []
  #queuedBytes = 0
  #stream: Stream | undefined
  #pumping = false
  #scheduled = false
  #failures = 0
  #retryAt = 0
  #stopped = false
  readonly #stopController = new AbortController()

  constructor(id: NodeId, peer: PeerId, context: PeerSenderContext) {
    this.id = id
    this.#peer = peer
    this.#context = context
  }

  /** Queues encoded messages (frame payloads); never blocks or throws. */
  enqueue(payloads: readonly Uint8Array[]): void {
    if (this.#stopped) {
      this.#context.dropped(this.id, 'stopped', payloads.length)
      return
    }
    if (this.#failures > 0 && this.#context.now() < this.#retryAt) {
      this.#context.dropped(this.id, 'unreachable', payloads.length)
      this.#context.unreachable(this.id)
      return
    }
    const { maxQueuedMessages, maxQueuedBytes } = this.#context.limits
    let accepted = 0
    for (const payload of payloads) {
      const size = varintLength(payload.byteLength) + payload.byteLength
      if (this.#queue.length >= maxQueuedMessages || this.#queuedBytes + size > maxQueuedBytes) {
        break
      }
      this.#queue.push(payload)
      this.#queuedBytes += size
      accepted++
    }
    if (accepted < payloads.length) {
      this.#context.log(
        'send queue to %s is full (%d messages, %d bytes); dropping %d messages',
        this.id,
        this.#queue.length,
        this.#queuedBytes,
        payloads.length - accepted,
      )
      this.#context.dropped(this.id, 'queue-full', payloads.length - accepted)
      this.#context.unreachable(this.id)
    }
    this.#schedule()
  }

  /** The peer connected: whatever backoff was running is over. */
  connected(): void {
    this.#failures = 0
    this.#retryAt = 0
  }

  get queuedMessages(): number {
    return this.#queue.length
  }

  /** Drops the queue and closes the stream. */
  stop(): void {
    this.#stopped = true
    this.#stopController.abort(new TransportStoppedError())
    this.#queue = []
    this.#queuedBytes = 0
    const stream = this.#stream
    this.#stream = undefined
    stream?.abort(new TransportStoppedError())
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping || this.#queue.length === 0) {
      return
    }
    this.#scheduled = true
    // A microtask, so that everything queued in the current tick leaves in one write.
    queueMicrotask(() => {
      this.#scheduled = false
      void this.#pump()
    })
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      return
    }
    this.#pumping = true
    let stream: Stream | undefined
    try {
      while (this.#queue.length > 0 && !this.#stopped) {
        stream = this.#stream
        if (stream === undefined || stream.writeStatus !== 'writable') {
          stream = await this.#open()
        }
        if (!stream.send(encodeFrames(this.#takeBatch()))) {
          await this.#drained(stream)
        }
      }
    } catch (err) {
      this.#fail(err as Error, stream)
    } finally {
      this.#pumping = false
      this.#schedule()
    }
  }

  /** Takes queued frames up to `maxBatchBytes` (at least one). */
  #takeBatch(): Uint8Array[] {
    const { maxBatchBytes } = this.#context.limits
    let count = 0
    let bytes = 0
    while (count < this.#queue.length) {
      const payload = this.#queue[count] as Uint8Array
      const size = varintLength(payload.byteLength) + payload.byteLength
      if (count > 0 && bytes + size > maxBatchBytes) {
        break
      }
      bytes += size
      count++
    }
    this.#queuedBytes -= bytes
    return count === this.#queue.length ? this.#queue.splice(0) : this.#queue.splice(0, count)
  }

  async #open(): Promise<Stream> {
    const signal = AbortSignal.any([
      this.#stopController.signal,
      AbortSignal.timeout(this.#context.limits.dialTimeout),
    ])
    let stream: Stream
    try {
      stream = await this.#context.openStream(this.#peer, signal)
    } catch (err) {
      this.#failures++
      const delay = Math.min(
        this.#context.limits.backoffMax,
        this.#context.limits.backoffInitial * 2 ** (this.#failures - 1),
      )
      this.#retryAt = this.#context.now() + delay
      this.#context.log(
        'cannot open a stream to %s (attempt %d, next in %d ms): %s',
        this.id,
        this.#failures,
        delay,
        (err as Error).message,
      )
      throw err
    }
    if (this.#stopped) {
      stream.abort(new TransportStoppedError())
      throw new TransportStoppedError()
    }
    this.#failures = 0
    this.#retryAt = 0
    this.#stream = stream
    stream.addEventListener('close', (event: StreamCloseEvent) => {
      if (this.#stream !== stream) {
        return
      }
      this.#stream = undefined
      if (event.error !== undefined && !this.#stopped) {
        // Frames written but not yet read by the peer may be lost with the stream.
        this.#context.log('stream to %s closed: %s', this.id, event.error.message)
        this.#context.unreachable(this.id)
      }
    })
    return stream
  }

  async #drained(stream: Stream): Promise<void> {
    const { sendTimeout } = this.#context.limits
    try {
      await stream.onDrain({
        signal: AbortSignal.any([this.#stopController.signal, AbortSignal.timeout(sendTimeout)]),
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new TimeoutError(
          `the stream to ${this.id} accepted no data for ${sendTimeout} ms; the peer is stalled (raise sendTimeout if it is only slow)`,
        )
      }
      throw err
    }
  }

  #fail(error: Error, stream: Stream | undefined): void {
    const lost = this.#queue.length
    this.#queue = []
    this.#queuedBytes = 0
    if (this.#stopped) {
      return
    }
    if (stream !== undefined && this.#stream === stream) {
      this.#stream = undefined
      stream.abort(error)
    }
    if (lost > 0) {
      this.#context.dropped(this.id, 'unreachable', lost)
    }
    this.#context.unreachable(this.id)
  }
}
