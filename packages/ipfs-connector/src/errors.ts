/** `ipfs_connector.*` in service.json holds a value the connector cannot use. */
export class InvalidConnectorConfigurationError extends Error {
  static readonly code = 'InvalidConnectorConfigurationError'
  override readonly name = 'InvalidConnectorConfigurationError'
  readonly key: string
  constructor(key: string, problem: string) {
    super(`ipfs_connector.${key} ${problem}`)
    this.key = key
  }
}

/** A pin made no progress for `pin_timeout` (no reachable IPFS node served the next block). */
export class PinTimeoutError extends Error {
  static readonly code = 'PinTimeoutError'
  override readonly name = 'PinTimeoutError'
}

/** An unpin did not finish within `unpin_timeout`. */
export class UnpinTimeoutError extends Error {
  static readonly code = 'UnpinTimeoutError'
  override readonly name = 'UnpinTimeoutError'
}

/** The IPFS node answered with an error (Kubo's `{"Message","Code","Type"}`), or failed a call. */
export class IpfsRequestError extends Error {
  static readonly code = 'IpfsRequestError'
  override readonly name = 'IpfsRequestError'
  /** The HTTP status Kubo answered with, 0 when it could not be reached. */
  readonly status: number
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options)
    this.status = status
  }
}

/** Kubo's RPC API cannot be reached at `node_multiaddress`. */
export class IpfsUnreachableError extends Error {
  static readonly code = 'IpfsUnreachableError'
  override readonly name = 'IpfsUnreachableError'
}

/** The connector was used before `start()` or after `stop()`. */
export class ConnectorNotStartedError extends Error {
  static readonly code = 'ConnectorNotStartedError'
  override readonly name = 'ConnectorNotStartedError'
}

/** A block's bytes do not hash to the CID it was written under, or use an unknown hash. */
export class InvalidBlockError extends Error {
  static readonly code = 'InvalidBlockError'
  override readonly name = 'InvalidBlockError'
}

/** A path given to `resolve` is not `/ipfs/<cid>/…`, `/ipld/<cid>/…` or `/ipns/<name>/…`. */
export class InvalidPathError extends Error {
  static readonly code = 'InvalidPathError'
  override readonly name = 'InvalidPathError'
}

/** A feature this node does not provide (IPNS on the embedded node without routing, say). */
export class UnsupportedOperationError extends Error {
  static readonly code = 'UnsupportedOperationError'
  override readonly name = 'UnsupportedOperationError'
}

/** Bad input to the adder: an unknown chunker, hash or format, a broken CAR, a bad path. */
export class InvalidAddInputError extends Error {
  static readonly code = 'InvalidAddInputError'
  override readonly name = 'InvalidAddInputError'
}
