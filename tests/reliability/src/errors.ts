/** A history that cannot be checked as given (overlapping calls of one process, times out of order, a read without a value). */
export class InvalidHistoryError extends Error {
  static override name = 'InvalidHistoryError'
  override name = 'InvalidHistoryError'
}

/** The harness cannot run here (not root, no `ip netns`, a missing tool); the message says what to install or change. */
export class HarnessUnavailableError extends Error {
  static override name = 'HarnessUnavailableError'
  override name = 'HarnessUnavailableError'
}

/** A command the harness runs (`ip`, `nft`, `pinraft`) failed; the message carries its output. */
export class CommandFailedError extends Error {
  static override name = 'CommandFailedError'
  override name = 'CommandFailedError'
}

/** The cluster did not reach the expected state (a leader, all peers converged) within the bound. */
export class RecoveryTimeoutError extends Error {
  static override name = 'RecoveryTimeoutError'
  override name = 'RecoveryTimeoutError'
}

/** Bad command-line arguments for `pnpm reliability`; the message says the accepted values. */
export class InvalidArgumentError extends Error {
  static override name = 'InvalidArgumentError'
  override name = 'InvalidArgumentError'
}
