import { last } from '../last.ts'
import type { NodeId } from '../types.ts'

interface PendingRead {
  readonly index: number
  /** The node that asked: this node, or a follower that forwarded its client's read. */
  readonly from: NodeId
  readonly acknowledged: Set<NodeId>
}

/**
 * Read-index requests waiting for a quorum of heartbeat acknowledgements (thesis §6.4): the
 * leader records its commit index, and once a majority confirms it is still leader, reads at
 * that index are linearizable. Requests are released in the order they were made.
 */
export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>()
  private queue: string[] = []

  add(index: number, context: string, from: NodeId): void {
    if (this.pending.has(context)) {
      return
    }
    this.pending.set(context, { index, from, acknowledged: new Set() })
    this.queue.push(context)
  }

  /** Records `from`'s acknowledgement; returns who acknowledged `context` so far. */
  acknowledge(from: NodeId, context: string): ReadonlySet<NodeId> | undefined {
    const read = this.pending.get(context)
    if (read === undefined) {
      return undefined
    }
    read.acknowledged.add(from)
    return read.acknowledged
  }

  /**
   * Releases `context` and every request queued before it: a quorum that confirms leadership
   * for a later heartbeat confirms it for the earlier ones too.
   */
  release(context: string): Array<{ index: number; context: string; from: NodeId }> {
    const position = this.queue.indexOf(context)
    if (position < 0) {
      return []
    }
    const released = this.queue.slice(0, position + 1)
    this.queue = this.queue.slice(position + 1)
    const result: Array<{ index: number; context: string; from: NodeId }> = []
    for (const id of released) {
      const read = this.pending.get(id)
      this.pending.delete(id)
      if (read !== undefined) {
        result.push({ index: read.index, context: id, from: read.from })
      }
    }
    return result
  }

  lastPendingContext(): string {
    return last(this.queue) ?? ''
  }

  get size(): number {
    return this.queue.length
  }

  reset(): void {
    this.pending.clear()
    this.queue = []
  }
}
