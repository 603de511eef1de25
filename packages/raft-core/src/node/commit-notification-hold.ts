import type { Message } from '../message.ts'
import type { NodeId } from '../types.ts'
import type { Clock } from './clock.ts'

/**
 * A leader's appends without entries (a new commit index) held per follower for up to `delay`
 * ms (`RaftNodeInit.commitNotificationDelay`): a later append to the same follower replaces a
 * held one (it carries a commit index as high, and the entries after it), any other message to
 * that follower sends it first, so the follower sees messages in the order they were made.
 */
export class CommitNotificationHold {
  private readonly delay: number
  private readonly clock: Clock
  private readonly transmit: (messages: readonly Message[]) => void
  /** Runs when the oldest held notification is due (the node flushes them if it still runs). */
  private readonly onDue: () => void
  private readonly held = new Map<NodeId, Message>()
  private timer: unknown

  constructor(
    delay: number,
    clock: Clock,
    transmit: (messages: readonly Message[]) => void,
    onDue: () => void,
  ) {
    this.delay = delay
    this.clock = clock
    this.transmit = transmit
    this.onDue = onDue
  }

  /** Transmits `messages`, holding the empty appends a leader (`leading`) makes. */
  send(messages: readonly Message[], leading: boolean): void {
    const held = this.held
    let outgoing: Message[] | undefined
    for (let offset = 0; offset < messages.length; offset++) {
      const message = messages[offset]!
      const waiting = held.size === 0 ? undefined : held.get(message.to)
      if (message.type === 'append' && (waiting === undefined || waiting.term === message.term)) {
        if (waiting !== undefined) held.delete(message.to)
        if (message.entries.length === 0 && leading) {
          held.set(message.to, message)
          outgoing ??= messages.slice(0, offset)
          continue
        }
      } else if (waiting !== undefined) {
        held.delete(message.to)
        outgoing ??= messages.slice(0, offset)
        outgoing.push(waiting)
      }
      outgoing?.push(message)
    }
    const sending = outgoing ?? messages
    if (sending.length > 0) this.transmit(sending)
    if (held.size > 0 && this.timer === undefined) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined
        this.onDue()
      }, this.delay)
    }
  }

  /** Transmits at once what is held for `peer` (for every follower when omitted). */
  flush(peer?: NodeId): void {
    const held = this.held
    if (held.size === 0) return
    let sending: Message[]
    if (peer === undefined) {
      sending = [...held.values()]
      held.clear()
    } else {
      const message = held.get(peer)
      if (message === undefined) return
      held.delete(peer)
      sending = [message]
    }
    if (held.size === 0) this.stopTimer()
    this.transmit(sending)
  }

  /** Drops everything held (the node stopped: nothing more leaves). */
  clear(): void {
    this.held.clear()
    this.stopTimer()
  }

  private stopTimer(): void {
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }
}
