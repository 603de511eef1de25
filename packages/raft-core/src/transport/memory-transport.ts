import type { AbortOptions } from '../abort.ts'
import type { Message, SnapshotMessage } from '../message.ts'
import type { NodeId } from '../types.ts'
import type { Transport, TransportHandler } from './transport.ts'

/**
 * Decides the fate of one message on a `MemoryNetwork`: deliver it, drop it, or deliver it
 * several times. Used by tests to inject loss and duplication.
 */
export type MessageFilter = (message: Message) => 'deliver' | 'drop' | 'duplicate'

/**
 * An in-process network of `Transport`s for tests and for applications that run several nodes
 * in one process. Messages are delivered asynchronously (never re-entrantly) and may be cut by
 * partitions or a filter.
 */
export class MemoryNetwork {
  private readonly transports = new Map<NodeId, MemoryTransport>()
  /** Pairs "a|b" that cannot talk (both directions). */
  private readonly cut = new Set<string>()
  private readonly isolated = new Set<NodeId>()
  filter: MessageFilter | undefined
  /** Messages delivered so far, for tests that count traffic. */
  delivered = 0

  /** The transport for `id`, created on first use. */
  transport(id: NodeId): MemoryTransport {
    let transport = this.transports.get(id)
    if (transport === undefined) {
      transport = new MemoryTransport(id, this)
      this.transports.set(id, transport)
    }
    return transport
  }

  /** Cuts every link between the groups (each node keeps talking within its own group). */
  partition(...groups: NodeId[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] ?? []) {
          for (const b of groups[j] ?? []) {
            this.cut.add(linkKey(a, b))
          }
        }
      }
    }
  }

  /** Cuts `id` off from everyone. */
  isolate(id: NodeId): void {
    this.isolated.add(id)
  }

  /** Restores every link. */
  heal(): void {
    this.cut.clear()
    this.isolated.clear()
  }

  canReach(from: NodeId, to: NodeId): boolean {
    if (this.isolated.size > 0 && (this.isolated.has(from) || this.isolated.has(to))) return false
    if (this.cut.size > 0 && this.cut.has(linkKey(from, to))) return false
    const target = this.transports.get(to)
    return target !== undefined && target.handler !== undefined
  }

  /** @internal */
  deliver(message: Message): boolean {
    if (!this.canReach(message.from, message.to)) {
      return false
    }
    const verdict = this.filter?.(message) ?? 'deliver'
    if (verdict === 'drop') return true
    const copies = verdict === 'duplicate' ? 2 : 1
    for (let i = 0; i < copies; i++) {
      queueMicrotask(() => {
        // Re-check: a partition may have started meanwhile.
        if (!this.canReach(message.from, message.to)) return
        this.delivered++
        this.transports.get(message.to)?.handler?.onMessage(message)
      })
    }
    return true
  }

  /** @internal */
  async deliverSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void> {
    const handler = this.transports.get(message.to)?.handler
    if (!this.canReach(message.from, message.to) || handler === undefined) {
      throw new Error(`${message.to} is unreachable from ${message.from}`)
    }
    const network = this
    async function* relay(): AsyncGenerator<Uint8Array> {
      for await (const chunk of data) {
        if (!network.canReach(message.from, message.to)) {
          throw new Error(
            `the link from ${message.from} to ${message.to} was cut during the snapshot transfer`,
          )
        }
        yield chunk.slice()
      }
    }
    await handler.onSnapshot(message, relay(), options)
  }
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

export class MemoryTransport implements Transport {
  readonly localId: NodeId
  private readonly network: MemoryNetwork
  /** @internal */
  handler: TransportHandler | undefined

  constructor(localId: NodeId, network: MemoryNetwork) {
    this.localId = localId
    this.network = network
  }

  setHandler(handler: TransportHandler | undefined): void {
    this.handler = handler
  }

  send(messages: readonly Message[]): void {
    const unreachable = new Set<NodeId>()
    for (const message of messages) {
      if (!this.network.deliver(message)) {
        unreachable.add(message.to)
      }
    }
    for (const peer of unreachable) {
      queueMicrotask(() => this.handler?.onUnreachable(peer))
    }
  }

  sendSnapshot(
    message: SnapshotMessage,
    data: AsyncIterable<Uint8Array>,
    options?: AbortOptions,
  ): Promise<void> {
    return this.network.deliverSnapshot(message, data, options)
  }
}
