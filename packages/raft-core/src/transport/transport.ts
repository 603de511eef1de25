import type { AbortOptions } from '../abort.ts'
import type { Message, SnapshotMessage } from '../message.ts'
import type { NodeId } from '../types.ts'

/** What a transport hands to the node it serves. */
export interface TransportHandler {
  /** A message arrived. Must not throw; may be called in any order relative to sends. */
  onMessage(message: Message): void
  /**
   * A snapshot arrived: the handler stores the data in its snapshot store and then delivers
   * `message`. The transport acknowledges the sender only once this resolves, and reports a
   * failure to the sender if it rejects.
   */
  onSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void>
  /**
   * A message to `peer` could not be delivered; the leader stops pipelining to it until it
   * answers again (etcd-io/raft's ReportUnreachable).
   */
  onUnreachable(peer: NodeId): void
}

/**
 * Carries Raft messages between nodes. Delivery is best-effort: messages may be lost,
 * duplicated or reordered, and Raft tolerates all of it. Sending never blocks the caller.
 */
export interface Transport {
  /** The node this transport speaks for. */
  readonly localId: NodeId
  /** Registers (or, with undefined, removes) the handler that receives incoming traffic. */
  setHandler(handler: TransportHandler | undefined): void
  /**
   * Queues messages for delivery. A message to a peer that cannot be reached is dropped and the
   * handler's `onUnreachable` is called.
   */
  send(messages: readonly Message[]): void
  /**
   * Streams a snapshot's data to `message.to`, followed by the message itself. Resolves once the
   * receiver has stored it; rejects if it could not, so the leader can retry.
   */
  sendSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void>
}
