import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { Clock, Logger } from '@pinraft/raft-core'
import { type Pin, parseCid } from '@pinraft/state-pinset'
import type { StatelessConfiguration } from './configuration.ts'
import { messageOf } from './error-message.ts'
import { FullQueueError } from './errors.ts'
import {
  cancelOperation,
  type Operation,
  type OperationType,
  operationStatus,
} from './operation.ts'
import { OperationQueue } from './operation-queue.ts'
import type { PinsetWalks } from './status/pinset-walks.ts'
import type { TrackerConsensus } from './tracker-consensus.ts'
import type { TrackerLifetime } from './tracker-lifetime.ts'

const unpinWorkers = 1

export interface OperationRunnerComponents {
  readonly connector: IpfsConnector
  readonly consensus: TrackerConsensus
  readonly configuration: StatelessConfiguration
  /** How many operations a reconciliation pass may keep queued beyond `concurrent_pins`. */
  readonly reconcileBacklog: number
  readonly clock: Clock
  readonly logger: Logger
  readonly lifetime: TrackerLifetime
  /** Where `operation:change` events are dispatched (the tracker's events). */
  readonly events: EventTarget
  readonly walks: PinsetWalks
}

/**
 * The tracker's operations and their window (1.x's optracker and workers): queued in the
 * priority, normal and unpin queues, run `concurrent_pins` pins and one unpin at a time.
 */
export class OperationRunner {
  readonly #connector: IpfsConnector
  readonly #consensus: TrackerConsensus
  readonly #configuration: StatelessConfiguration
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #lifetime: TrackerLifetime
  readonly #events: EventTarget
  readonly #walks: PinsetWalks
  readonly #operations = new Map<string, Operation>()
  /** Operations queued, running or failed, by CID: what the tracker holds in memory. */
  readonly operations: ReadonlyMap<string, Operation> = this.#operations
  readonly #priorityPins: OperationQueue
  readonly #pins: OperationQueue
  readonly #unpins: OperationQueue
  readonly #running = new Set<Promise<void>>()
  readonly #reconcileWindow: number
  /** Wakes the reconciliation pass waiting for room in its window. */
  #roomWaiter: (() => void) | null = null
  #activePins = 0
  #activeUnpins = 0

  constructor(components: OperationRunnerComponents) {
    this.#connector = components.connector
    this.#consensus = components.consensus
    this.#configuration = components.configuration
    this.#clock = components.clock
    this.#logger = components.logger
    this.#lifetime = components.lifetime
    this.#events = components.events
    this.#walks = components.walks
    this.#reconcileWindow = this.#configuration.concurrentPins + components.reconcileBacklog
    this.#priorityPins = new OperationQueue(this.#configuration.maxPinQueueSize)
    this.#pins = new OperationQueue(this.#configuration.maxPinQueueSize)
    this.#unpins = new OperationQueue(this.#configuration.maxPinQueueSize)
  }

  /** Operations waiting in the pin queues (1.x's PinQueueSize). */
  pinQueueSize(): number {
    return this.#priorityPins.size + this.#pins.size
  }

  /** Cancels every queued and running operation; resolves once the running ones ended. */
  async stop(): Promise<void> {
    for (const operation of this.#operations.values()) cancelOperation(operation)
    this.#priorityPins.clear()
    this.#pins.clear()
    this.#unpins.clear()
    await Promise.allSettled([...this.#running])
  }

  /** Forgets every operation: once stopped, after the passes that may still read them ended. */
  clear(): void {
    this.#operations.clear()
  }

  /** Queues an operation; `submitted` is the pin's timestamp (new pins go first). */
  enqueue(key: string, type: OperationType, submitted: number | null): void {
    const operation = this.#newOperation(key, type)
    if (operation === null) return
    let queue: OperationQueue
    if (type === 'pin') {
      const now = this.#clock.now()
      operation.priority =
        submitted !== null &&
        now < submitted + this.#configuration.priorityPinMaxAge &&
        operation.attemptCount <= this.#configuration.priorityPinMaxRetries
      queue = operation.priority ? this.#priorityPins : this.#pins
    } else {
      queue = this.#unpins
    }
    if (!queue.push(operation)) {
      const error = new FullQueueError()
      operation.phase = 'error'
      operation.error = error.message
      operation.timestamp = this.#clock.now()
      operation.canceled = true
      this.#changed(operation)
      this.#logger.error(error.message, { cid: operation.key })
      throw error
    }
    this.#changed(operation)
    this.#pump()
  }

  tryEnqueue(key: string, type: OperationType, submitted: number | null): void {
    try {
      this.enqueue(key, type, submitted)
    } catch (error) {
      // The operation now shows the error (pin_error / unpin_error): nothing is lost.
      this.#logger.error('could not queue the operation', {
        cid: key,
        error: messageOf(error),
      })
    }
  }

  /**
   * Waits until fewer than `concurrent_pins` + `reconcileBacklog` operations are queued or
   * running (a reconciliation pass's window).
   */
  async roomInWindow(signal: AbortSignal): Promise<void> {
    while (!this.#lifetime.stopped && this.#inWindow() >= this.#reconcileWindow) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake)
          if (this.#roomWaiter === wake) this.#roomWaiter = null
          resolve()
        }
        this.#roomWaiter = wake
        signal.addEventListener('abort', wake, { once: true })
      })
      signal.throwIfAborted()
    }
  }

  /** Operations queued or running, canceled ones still in a queue included. */
  #inWindow(): number {
    return (
      this.#priorityPins.size +
      this.#pins.size +
      this.#unpins.size +
      this.#activePins +
      this.#activeUnpins
    )
  }

  /** 1.x's TrackNewOperation: null when the same kind of operation is already queued or running. */
  #newOperation(key: string, type: OperationType): Operation | null {
    const existing = this.#operations.get(key)
    if (existing !== undefined) {
      if (existing.type === type && existing.phase !== 'error' && existing.phase !== 'done') {
        // Already queued or running; a queued pin reads the latest options when it starts.
        return null
      }
      cancelOperation(existing)
    }
    const operation: Operation = {
      type,
      key,
      phase: 'queued',
      attemptCount: existing !== undefined && existing.type === type ? existing.attemptCount : 0,
      priority: false,
      error: '',
      timestamp: this.#clock.now(),
      canceled: false,
      controller: null,
    }
    this.#operations.set(key, operation)
    return operation
  }

  #pump(): void {
    while (this.#activePins < this.#configuration.concurrentPins) {
      const operation = this.#priorityPins.shift() ?? this.#pins.shift()
      if (operation === undefined) break
      this.#activePins++
      this.#launch(operation, () => this.#activePins--)
    }
    while (this.#activeUnpins < unpinWorkers) {
      const operation = this.#unpins.shift()
      if (operation === undefined) break
      this.#activeUnpins++
      this.#launch(operation, () => this.#activeUnpins--)
    }
  }

  #launch(operation: Operation, release: () => void): void {
    const running: Promise<void> = this.#apply(operation).finally(() => {
      release()
      this.#running.delete(running)
      if (!this.#lifetime.stopped) this.#pump()
      if (this.#roomWaiter !== null && this.#inWindow() < this.#reconcileWindow) this.#roomWaiter()
    })
    this.#running.add(running)
  }

  /** 1.x's applyPinF: one attempt; done operations are forgotten, failed ones keep their error. */
  async #apply(operation: Operation): Promise<void> {
    const controller = new AbortController()
    operation.controller = controller
    const { signal } = controller
    let pin: Pin | undefined
    if (operation.type === 'pin') {
      pin = this.#consensus.state().get(operation.key)
      if (pin === undefined) {
        // Left the pinset without an unpin reaching the tracker (a restore): nothing to pin.
        this.#finish(operation)
        return
      }
    }
    operation.phase = 'in_progress'
    operation.timestamp = this.#clock.now()
    operation.attemptCount++
    this.#changed(operation)
    try {
      if (pin !== undefined) {
        await this.#connector.pin(pin.cid, {
          mode: pin.mode,
          maxDepth: pin.maxDepth,
          origins: pin.origins,
          signal,
        })
      } else {
        await this.#connector.unpin(parseCid(operation.key), { signal })
      }
    } catch (error) {
      if (signal.aborted) return
      operation.phase = 'error'
      operation.error = messageOf(error)
      operation.timestamp = this.#clock.now()
      operation.controller = null
      this.#logger.warn(`${operation.type === 'pin' ? 'pin' : 'unpin'} failed`, {
        cid: operation.key,
        attempt: operation.attemptCount,
        error: operation.error,
      })
      this.#changed(operation)
      return
    }
    if (signal.aborted) return
    this.#finish(operation)
  }

  #finish(operation: Operation): void {
    if (operation.type === 'pin') this.#walks.pinned(operation.key)
    operation.phase = 'done'
    operation.timestamp = this.#clock.now()
    operation.controller = null
    if (this.#operations.get(operation.key) === operation) this.#operations.delete(operation.key)
    this.#changed(operation)
  }

  #changed(operation: Operation): void {
    this.#events.dispatchEvent(
      new CustomEvent('operation:change', {
        detail: {
          cid: operation.key,
          type: operation.type,
          phase: operation.phase,
          status: operationStatus(operation),
        },
      }),
    )
  }
}
