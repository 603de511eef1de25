import type { ConsensusInit } from '@pinraft/consensus'
import { type LevelWithSilent, type Logger, pino } from 'pino'

export type { Logger } from 'pino'

export const logLevels: readonly LevelWithSilent[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
]

/**
 * The one root logger of the process. Logs go to stderr (stdout is for command output), as JSON
 * lines, or pretty-printed when stderr is a terminal. Components take `logger.child({ component })`.
 */
export async function createRootLogger(
  level: LevelWithSilent,
  pretty = process.stderr.isTTY === true,
): Promise<Logger> {
  if (pretty) {
    const { default: prettyStream } = await import('pino-pretty')
    return pino(
      { level },
      prettyStream({ destination: 2, colorize: true, ignore: 'pid,hostname', sync: true }),
    )
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }))
}

/** The logger interface the pinraft libraries take (raft-core's `Logger`). */
export type LibraryLogger = NonNullable<ConsensusInit['logger']>

/** The logger interface the pinraft libraries take, over a pino logger. */
export function libraryLogger(logger: Logger): LibraryLogger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  }
}
