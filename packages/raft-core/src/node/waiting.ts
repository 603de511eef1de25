import type { AbortOptions } from '../abort.ts'
import { AbortedError } from '../errors.ts'
import type { Clock } from './clock.ts'

/** The error for an operation its caller aborted: whether it took effect is not known. */
export function abortError(signal: AbortSignal, what: string): Error {
  const reason = signal.reason
  return new AbortedError(
    `${what} was aborted${reason instanceof Error ? ` (${reason.message})` : ''}; its outcome is unknown`,
  )
}

/** Resolves after `milliseconds` on `clock`, or rejects when `options.signal` aborts first. */
export function sleep(clock: Clock, milliseconds: number, options?: AbortOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const signal = options?.signal
    if (signal?.aborted) {
      reject(abortError(signal, 'waiting'))
      return
    }
    const onAbort = () => {
      clock.clearTimeout(handle)
      reject(abortError(signal as AbortSignal, 'waiting'))
    }
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, milliseconds)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

interface Waiter {
  readonly predicate: () => boolean
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/**
 * Callers waiting for a condition on the node's state (a leader known, an index applied): the
 * node checks them after each Ready and each batch of applies, so nobody polls.
 */
export class Waiters {
  private readonly waiting = new Set<Waiter>()

  /** Resolves whoever's condition now holds. */
  check(): void {
    for (const waiter of this.waiting) {
      if (waiter.predicate()) {
        this.waiting.delete(waiter)
        waiter.resolve()
      }
    }
  }

  /** Resolves once `predicate` holds at a `check`; rejects when `options.signal` aborts. */
  waitFor(predicate: () => boolean, what: string, options?: AbortOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signal = options?.signal
      const onAbort = () => {
        this.waiting.delete(waiter)
        reject(abortError(signal as AbortSignal, what))
      }
      const waiter: Waiter = {
        predicate,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      }
      if (signal?.aborted) {
        reject(abortError(signal, what))
        return
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.add(waiter)
    })
  }

  /** Rejects every waiter with `error` (the node stopped or failed). */
  rejectAll(error: Error): void {
    for (const waiter of this.waiting) waiter.reject(error)
    this.waiting.clear()
  }
}
