/**
 * Every error this package raises. Each has a stable `name` to test against and a message that
 * says what was wrong and what to do.
 */

export { SnapshotCorruptError } from '@pinraft/raft-core'

/** Quotes user input in a message, shortened so a huge input cannot flood a log line. */
export function quote(input: unknown): string {
  let text: string
  if (typeof input === 'string') text = input
  else if (input instanceof Uint8Array)
    text = `bytes 0x${Array.from(input, (byte) => byte.toString(16).padStart(2, '0')).join('')}`
  else {
    try {
      text = JSON.stringify(input) ?? String(input)
    } catch {
      text = String(input)
    }
  }
  if (text.length > 120) text = `${text.slice(0, 117)}...`
  return JSON.stringify(text)
}

/** A CID that does not parse: the message quotes the input and says why. */
export class InvalidCidError extends Error {
  static readonly code = 'InvalidCidError'
  override readonly name = 'InvalidCidError'
  readonly input: unknown
  constructor(input: unknown, reason: string) {
    super(
      `invalid CID ${quote(input)}: ${reason}; expected a CIDv0 ("Qm…", base58btc) or a CIDv1 in any multibase (for example "bafy…" in base32)`,
    )
    this.input = input
  }
}

/** A pin that breaks one of the Pin rules; `field` names the offending field (JSON spelling). */
export class InvalidPinError extends Error {
  static readonly code = 'InvalidPinError'
  override readonly name = 'InvalidPinError'
  readonly field: string
  constructor(field: string, message: string) {
    super(`invalid pin: ${field} ${message}`)
    this.field = field
  }
}

/** An operation that cannot be encoded (for example a request id that is empty or too long). */
export class InvalidOperationError extends Error {
  static readonly code = 'InvalidOperationError'
  override readonly name = 'InvalidOperationError'
}

/**
 * Bytes that are not an operation of a known version. `apply` never throws this: it returns a
 * `rejected` result instead, so a bad log entry cannot crash a peer or split the replicas.
 */
export class MalformedOperationError extends Error {
  static readonly code = 'MalformedOperationError'
  override readonly name = 'MalformedOperationError'
}

/** A snapshot written by a newer format version than this build reads: upgrade this peer. */
export class SnapshotVersionError extends Error {
  static readonly code = 'SnapshotVersionError'
  override readonly name = 'SnapshotVersionError'
  readonly version: number
  constructor(version: number, newest: number) {
    super(
      `snapshot format version ${version} is not supported (this build reads versions 1 to ${newest}); upgrade @pinraft/state-pinset on this peer`,
    )
    this.version = version
  }
}

/**
 * The pinset changed while a snapshot of it was being streamed. The node never applies while it
 * consumes a snapshot, so this means a caller broke that contract; take the snapshot again.
 */
export class StateChangedDuringSnapshotError extends Error {
  static readonly code = 'StateChangedDuringSnapshotError'
  override readonly name = 'StateChangedDuringSnapshotError'
  constructor() {
    super(
      'the pinset changed while its snapshot was being streamed; do not apply commands while consuming snapshot(), then take the snapshot again',
    )
  }
}

/** A line of a `state export` file that does not import; nothing of the file was imported. */
export class StateImportError extends Error {
  static readonly code = 'StateImportError'
  override readonly name = 'StateImportError'
  readonly line: number
  constructor(line: number, reason: string, options?: { cause?: unknown }) {
    super(
      `state import failed at line ${line}: ${reason}; nothing was imported, fix that line and import the file again`,
      options,
    )
    this.line = line
  }
}
