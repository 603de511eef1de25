import type { Logger } from '../logging/logger.ts'

export interface ShutdownSignalOptions {
  /** Forces the process out; `process.exit` by default. */
  readonly exit?: (code: number) => void
  /** Milliseconds since some origin; `performance.now` by default. */
  readonly now?: () => number
  /**
   * Signals within this many milliseconds of the first count as that one. Ctrl-C under
   * `pnpm exec`, `pnpm start` or `timeout` reaches the daemon twice at once (the terminal signals
   * the process group and the wrapper forwards it again): that is one request to stop.
   */
  readonly coalesceMilliseconds?: number
}

/**
 * SIGINT and SIGTERM stop the daemon cleanly, once. Only a signal sent after the first was
 * acknowledged (logged, and outside the coalescing window) forces the process out (exit code
 * 1). Returns a function that removes the handlers.
 */
export function handleShutdownSignals(
  stop: () => Promise<void>,
  logger: Logger,
  options: ShutdownSignalOptions = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const now = options.now ?? (() => performance.now())
  const window = options.coalesceMilliseconds ?? 1000
  let acknowledgedAt: number | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    const at = now()
    if (acknowledgedAt === undefined) {
      acknowledgedAt = at
      logger.info(
        { signal },
        'shutting down cleanly (send the signal again, a second later, to force it)',
      )
      void stop()
      return
    }
    if (at - acknowledgedAt < window) {
      logger.debug({ signal }, 'the same stop request again (forwarded by a wrapper): ignored')
      return
    }
    logger.warn({ signal }, 'second signal: exiting now without a clean shutdown')
    exit(1)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
