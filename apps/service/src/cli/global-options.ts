import type { LevelWithSilent } from 'pino'
import { UsageError } from '../errors.ts'
import { logLevels } from '../logging/logger.ts'

/** The options of the program itself, given before or after the command. */
export interface GlobalOptions {
  config?: string
  logLevel?: string
}

export function logLevel(options: GlobalOptions, environment: NodeJS.ProcessEnv): LevelWithSilent {
  const level = options.logLevel ?? environment.PINRAFT_LOG_LEVEL ?? 'info'
  if (!(logLevels as readonly string[]).includes(level)) {
    throw new UsageError(
      `--log-level must be one of ${logLevels.join(', ')}, got ${JSON.stringify(level)}`,
    )
  }
  return level as LevelWithSilent
}
