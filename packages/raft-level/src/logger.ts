import type { Logger } from '@pinraft/raft-core'

/**
 * Used when no logger is given: damage the stores step around must never go unnoticed, so
 * warnings and errors become Node process warnings (printed to stderr unless the application
 * listens for them); debug and info are dropped.
 */
export const warningLogger: Logger = {
  debug() {},
  info() {},
  warn(message) {
    process.emitWarning(message, { type: 'RaftStorageWarning' })
  },
  error(message) {
    process.emitWarning(message, { type: 'RaftStorageWarning' })
  },
}
