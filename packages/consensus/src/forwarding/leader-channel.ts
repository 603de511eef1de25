import type { Libp2p, Stream, StreamMessageEvent } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import type { Logger } from '@pinraft/raft-core'
import { RpcError } from '../errors.ts'
import { encodeFrame } from '../rpc/framing.ts'
import {
  CONSENSUS_PIPELINE_PROTOCOL,
  decodeResponse,
  encodeRequest,
  MAX_RPC_MESSAGE_BYTES,
  type RpcRequest,
  type RpcResponse,
} from '../rpc/rpc-protocol.ts'
import { NotSentError } from './forward.ts'

/** The stream to the leader closed with requests unanswered: they may or may not have applied. */
export class ForwardStreamClosedError extends Error {
  override readonly name = 'ForwardStreamClosedError'
}

/** The leader runs a version without the pipelined protocol: forward one stream per request. */
export class PipelineUnsupportedError extends Error {
  override readonly name = 'PipelineUnsupportedError'
}

export interface LeaderChannelComponents {
  libp2p: Pick<Libp2p, 'dialProtocol'>
  logger: Logger
}

interface Pending {
  resolve(response: RpcResponse): void
  reject(error: Error): void
  /** The caller gave up: the response, when it comes, is dropped. */
  settled: boolean
}

/**
 * One long-lived stream to one leader on `/pinraft/consensus/1.1.0`: requests leave as soon as
 * they are made, without a stream to open (and protocol to negotiate) per request, and the
 * leader answers them in the order they were sent, so a forwarded operation costs one loopback
 * round trip on top of what it costs on the leader.
 */
class Channel {
  readonly stream: Stream
  private readonly pending: Pending[] = []
  private readonly decoder = new LengthPrefixedDecoder({
    maxDataLength: MAX_RPC_MESSAGE_BYTES,
    maxBufferSize: MAX_RPC_MESSAGE_BYTES * 2,
  })
  closed = false

  constructor(stream: Stream, onClose: () => void) {
    this.stream = stream
    stream.addEventListener('message', (event: StreamMessageEvent) => this.onData(event))
    stream.addEventListener('close', (event) => {
      this.fail(
        new ForwardStreamClosedError(
          `the stream to the leader closed${event.error === undefined ? '' : ` (${event.error.message})`} before it answered; the operation may or may not have been applied`,
        ),
      )
      onClose()
    })
    stream.addEventListener('remoteCloseWrite', () => {
      void stream.close().catch(() => {})
    })
  }

  request(request: RpcRequest, signal: AbortSignal): Promise<RpcResponse> {
    if (this.closed || this.stream.writeStatus !== 'writable') {
      // Nothing left: the caller may wait for another leader instead of counting a retry.
      return Promise.reject(new NotSentError('the stream to the leader is closed'))
    }
    return new Promise<RpcResponse>((resolve, reject) => {
      const onAbort = () => {
        if (pending.settled) return
        pending.settled = true
        reject(signal.reason ?? new Error('aborted'))
      }
      const pending: Pending = {
        resolve: (response) => {
          signal.removeEventListener('abort', onAbort)
          resolve(response)
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
        settled: false,
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.pending.push(pending)
      try {
        // The stream queues what it cannot write yet; its send buffer bounds memory.
        this.stream.send(encodeFrame(encodeRequest(request)))
      } catch (error) {
        this.pending.pop()
        pending.settled = true
        pending.reject(new NotSentError(`could not write to the leader: ${String(error)}`))
      }
    })
  }

  private onData(event: StreamMessageEvent): void {
    try {
      for (const frame of this.decoder.decode(event.data)) {
        const pending = this.pending.shift()
        if (pending === undefined) {
          throw new RpcError('the leader answered a request that was never sent')
        }
        const response = decodeResponse(frame.subarray())
        if (!pending.settled) {
          pending.settled = true
          pending.resolve(response)
        }
      }
    } catch (error) {
      this.stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }

  fail(error: Error): void {
    this.closed = true
    for (const pending of this.pending.splice(0)) {
      if (pending.settled) continue
      pending.settled = true
      pending.reject(error)
    }
  }
}

/** Forwards operations to the leader over one pipelined stream per leader. */
export class LeaderChannels {
  private readonly components: LeaderChannelComponents
  private readonly channels = new Map<string, Promise<Channel>>()
  private stopped = false

  constructor(components: LeaderChannelComponents) {
    this.components = components
  }

  /** Sends `request` to `leader`; the leader's response, or NotSentError if it never left. */
  async send(leader: string, request: RpcRequest, signal: AbortSignal): Promise<RpcResponse> {
    const opening = this.channel(leader, signal)
    let channel = await opening
    if (channel.closed) {
      // Closed since it was opened (the leader went away or the stream broke): dial again.
      if (this.channels.get(leader) === opening) this.channels.delete(leader)
      channel = await this.channel(leader, signal)
    }
    return channel.request(request, signal)
  }

  /** Drops `channel` from the map once its stream closed. */
  private forget(leader: string, channel: Channel): void {
    const opening = this.channels.get(leader)
    void opening?.then((current) => {
      if (current === channel && this.channels.get(leader) === opening) this.channels.delete(leader)
    })
  }

  private channel(leader: string, signal: AbortSignal): Promise<Channel> {
    const existing = this.channels.get(leader)
    if (existing !== undefined) return existing
    const opening = this.open(leader, signal)
    this.channels.set(leader, opening)
    // A failed dial is forgotten, so the next request dials again.
    opening.catch(() => {
      if (this.channels.get(leader) === opening) this.channels.delete(leader)
    })
    return opening
  }

  private async open(leader: string, signal: AbortSignal): Promise<Channel> {
    if (this.stopped) throw new NotSentError('consensus is shutting down')
    let stream: Stream
    try {
      stream = await this.components.libp2p.dialProtocol(
        peerIdFromString(leader),
        CONSENSUS_PIPELINE_PROTOCOL,
        { signal },
      )
    } catch (error) {
      if (error instanceof Error && error.name === 'UnsupportedProtocolError') {
        throw new PipelineUnsupportedError(
          `the leader ${leader} does not speak ${CONSENSUS_PIPELINE_PROTOCOL}`,
        )
      }
      throw new NotSentError(`could not reach the leader ${leader}: ${String(error)}`)
    }
    const channel: Channel = new Channel(stream, () => this.forget(leader, channel))
    if (this.stopped) {
      stream.abort(new NotSentError('consensus is shutting down'))
      throw new NotSentError('consensus is shutting down')
    }
    this.components.logger.debug('forwarding to the leader', {
      leader,
      protocol: CONSENSUS_PIPELINE_PROTOCOL,
    })
    return channel
  }

  /** Closes every stream; requests still unanswered fail. */
  async stop(): Promise<void> {
    this.stopped = true
    const channels = [...this.channels.values()]
    this.channels.clear()
    await Promise.all(
      channels.map(async (opening) => {
        const channel = await opening.catch(() => undefined)
        if (channel === undefined) return
        channel.fail(new ForwardStreamClosedError('consensus shut down before the leader answered'))
        await channel.stream.close().catch(() => channel.stream.abort(new Error('shut down')))
      }),
    )
  }
}
