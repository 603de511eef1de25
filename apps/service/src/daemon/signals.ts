import type { Logger } from '../logging/logger.ts'

/**
 * SIGINT and SIGTERM stop the daemon cleanly, once; a second signal while it stops forces the
 * process out (exit code 1). Returns a function that removes the handlers.
 */
export function handleShutdownSignals(
  stop: () => Promise<void>,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let received = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    received++
    if (received === 1) {
      logger.info({ signal }, 'shutting down cleanly (send the signal again to force)')
      void stop()
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
