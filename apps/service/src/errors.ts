/**
 * The errors of the service, each with a stable `name` (tests check it; the HTTP error handler
 * maps names to status codes). Messages say what was wrong and what to do.
 */

/** A configuration key holds a value it does not allow; `key` is the dotted path. */
export class ConfigurationError extends Error {
  static readonly code = 'ConfigurationError'
  override readonly name = 'ConfigurationError'
  readonly key: string
  constructor(key: string, problem: string, options?: { cause?: unknown }) {
    super(`${key} ${problem}`, options)
    this.key = key
  }
}

/** The configuration folder has no `service.json` (or `identity.json`): run `pinraft init`. */
export class ConfigurationMissingError extends Error {
  static readonly code = 'ConfigurationMissingError'
  override readonly name = 'ConfigurationMissingError'
}

/** `pinraft init` found an existing configuration and was not given `--force`. */
export class ConfigurationExistsError extends Error {
  static readonly code = 'ConfigurationExistsError'
  override readonly name = 'ConfigurationExistsError'
}

/**
 * The configuration still has the `peers` or `bootstrap` keys that IPFS Cluster removed when
 * consensus became its own component: the service no longer edits its configuration.
 */
export class OldConfigurationKeysError extends Error {
  static readonly code = 'OldConfigurationKeysError'
  override readonly name = 'OldConfigurationKeysError'
  readonly keys: readonly string[]
  constructor(message: string, keys: readonly string[]) {
    super(message)
    this.keys = keys
  }
}

/** An environment override (`PINRAFT_<SECTION>_<KEY>`) does not parse as its key's type. */
export class InvalidEnvironmentError extends Error {
  static readonly code = 'InvalidEnvironmentError'
  override readonly name = 'InvalidEnvironmentError'
  readonly variable: string
  constructor(variable: string, problem: string) {
    super(`environment variable ${variable} ${problem}`)
    this.variable = variable
  }
}

/** Another daemon (or offline state command) holds the configuration folder's lock. */
export class FolderLockedError extends Error {
  static readonly code = 'FolderLockedError'
  override readonly name = 'FolderLockedError'
  readonly pid: number | null
  constructor(message: string, pid: number | null) {
    super(message)
    this.pid = pid
  }
}

/** `daemon --bootstrap`: no bootstrap peer added this peer, or it did not catch up in time. */
export class JoinError extends Error {
  static readonly code = 'JoinError'
  override readonly name = 'JoinError'
}

/** An HTTP request parameter is malformed (400). */
export class InvalidParameterError extends Error {
  static readonly code = 'InvalidParameterError'
  override readonly name = 'InvalidParameterError'
}

/** The thing asked for is not there (404): a CID not in the pinset. */
export class NotFoundError extends Error {
  static readonly code = 'NotFoundError'
  override readonly name = 'NotFoundError'
}

/** A peer that is not a member of the peerset was named (400). */
export class UnknownPeerError extends Error {
  static readonly code = 'UnknownPeerError'
  override readonly name = 'UnknownPeerError'
}

/** Basic authentication is configured and the request did not carry valid credentials (401). */
export class UnauthorizedError extends Error {
  static readonly code = 'UnauthorizedError'
  override readonly name = 'UnauthorizedError'
}

/** The HTTP API answered with an error (client side); carries its status and message. */
export class ApiResponseError extends Error {
  static readonly code = 'ApiResponseError'
  override readonly name = 'ApiResponseError'
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** The HTTP API could not be reached at all (client side): is the daemon running? */
export class ApiUnreachableError extends Error {
  static readonly code = 'ApiUnreachableError'
  override readonly name = 'ApiUnreachableError'
}

/** A command-line argument is wrong; the CLI prints the message and exits 1. */
export class UsageError extends Error {
  static readonly code = 'UsageError'
  override readonly name = 'UsageError'
}

/** The reader of the command's output went away (`pinraft state export | head`): stop quietly. */
export class OutputClosedError extends Error {
  static readonly code = 'OutputClosedError'
  override readonly name = 'OutputClosedError'
}

/** `?consistent=true` could not get a read point confirmed by the leader (answered 503). */
export class ConsistentReadError extends Error {
  static readonly code = 'ConsistentReadError'
  override readonly name = 'ConsistentReadError'
}

/** A listening address is taken by another process; the message names the key and variable. */
export class AddressInUseError extends Error {
  static readonly code = 'AddressInUseError'
  override readonly name = 'AddressInUseError'
}

/** A failure the daemon already wrote to its log: the CLI prints nothing more. */
export class ReportedError extends Error {
  static readonly code = 'ReportedError'
  override readonly name = 'ReportedError'
}

/** `service.json` has keys pinraft does not read; the message lists all of them at once. */
export class UnknownConfigurationKeysError extends Error {
  static readonly code = 'UnknownConfigurationKeysError'
  override readonly name = 'UnknownConfigurationKeysError'
  readonly keys: readonly string[]
  constructor(message: string, keys: readonly string[]) {
    super(message)
    this.keys = keys
  }
}
