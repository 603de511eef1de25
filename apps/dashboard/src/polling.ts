import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { NotAvailableError } from './api.ts'

/** What a polled call last gave: its value, or its error, and when. */
export interface Polled<T> {
  readonly value: T | undefined
  readonly error: Error | null
  /** The route answered 404: this peer does not serve it. */
  readonly unavailable: boolean
  readonly updatedAt: number | null
  /** Runs the call now (after an action) instead of at the next tick. */
  refresh(): void
}

/** How a call is repeated. */
export interface PollOptions {
  /** Bound on one call, in milliseconds (10 s by default). */
  readonly timeout?: number
  /**
   * The next call waits at least this many times as long as the last one took (0 by default):
   * a call that costs the cluster a lot (every pin's status from every peer) is asked less often
   * the more it costs, so the page never keeps a large cluster busy.
   */
  readonly busyFactor?: number
}

/**
 * Calls `load` every `interval` milliseconds, one call at a time (the next starts `interval`
 * after the previous ended, so a slow peer is never asked twice at once), each bounded by a
 * timeout; stops when the component goes away.
 */
export function usePolled<T>(
  load: (signal: AbortSignal) => Promise<T>,
  interval: number,
  options: PollOptions = {},
): Polled<T> {
  const timeout = options.timeout ?? 10_000
  const busyFactor = options.busyFactor ?? 0
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({
    value: undefined,
    error: null,
    unavailable: false,
    updatedAt: null,
  })
  const loadRef = useRef(load)
  loadRef.current = load
  const runRef = useRef<() => void>(() => {})

  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    let running = false
    let again = false
    const stop = new AbortController()
    const run = async () => {
      if (running) {
        again = true
        return
      }
      running = true
      clearTimeout(timer)
      const started = Date.now()
      try {
        const value = await loadRef.current(
          AbortSignal.any([stop.signal, AbortSignal.timeout(timeout)]),
        )
        if (!stopped) setState({ value, error: null, unavailable: false, updatedAt: Date.now() })
      } catch (error) {
        if (!stopped)
          setState((previous) => ({
            value: error instanceof NotAvailableError ? undefined : previous.value,
            error: error instanceof Error ? error : new Error(String(error)),
            unavailable: error instanceof NotAvailableError,
            updatedAt: Date.now(),
          }))
      } finally {
        running = false
        if (!stopped) {
          if (again) {
            again = false
            void run()
          } else {
            const delay = Math.max(interval, (Date.now() - started) * busyFactor)
            timer = setTimeout(() => void run(), delay)
          }
        }
      }
    }
    runRef.current = () => void run()
    void run()
    return () => {
      stopped = true
      clearTimeout(timer)
      stop.abort()
    }
  }, [interval, timeout, busyFactor])

  const refresh = useCallback(() => runRef.current(), [])
  return { ...state, refresh }
}
