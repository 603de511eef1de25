/**
 * Every error raft-libp2p raises or closes a stream with. Each has a stable `name` to test
 * against and a message that says what happened and what to do.
 */

/** A frame could not be decoded into a message this version understands. */
export class MalformedFrameError extends Error {
  static readonly code = 'MalformedFrameError'
  override readonly name = 'MalformedFrameError'
}

/** A frame is larger than `maxMessageSize`; the stream carrying it is closed. */
export class FrameTooLargeError extends Error {
  static readonly code = 'FrameTooLargeError'
  override readonly name = 'FrameTooLargeError'
  readonly size: number
  readonly limit: number
  constructor(size: number, limit: number, what = 'frame') {
    super(
      `a ${what} of ${size} bytes exceeds maxMessageSize (${limit} bytes); raise maxMessageSize on both ends or lower the Raft append size`,
    )
    this.size = size
    this.limit = limit
  }
}

/** The transport is not started (or was stopped) and cannot carry traffic. */
export class TransportStoppedError extends Error {
  static readonly code = 'TransportStoppedError'
  override readonly name = 'TransportStoppedError'
  constructor(
    message = 'the Raft transport is stopped; start libp2p (and with it the transport) first',
  ) {
    super(message)
  }
}

/** The remote peer is not in this node's allowed set (the current Raft configuration). */
export class PeerNotAllowedError extends Error {
  static readonly code = 'PeerNotAllowedError'
  override readonly name = 'PeerNotAllowedError'
}

/** The receiver refused or failed to store a snapshot; `message` carries its reason. */
export class SnapshotRejectedError extends Error {
  static readonly code = 'SnapshotRejectedError'
  override readonly name = 'SnapshotRejectedError'
}

/**
 * A snapshot transfer broke off: the stream closed or stalled, or the data source failed. The
 * receiver discards what it got; the leader retries with a fresh transfer.
 */
export class SnapshotTransferError extends Error {
  static readonly code = 'SnapshotTransferError'
  override readonly name = 'SnapshotTransferError'
}

/** An operation did not finish within its configured timeout. */
export class TimeoutError extends Error {
  static readonly code = 'TimeoutError'
  override readonly name = 'TimeoutError'
}

/** An option given to the transport is invalid; the message names it. */
export class InvalidOptionError extends Error {
  static readonly code = 'InvalidOptionError'
  override readonly name = 'InvalidOptionError'
}
