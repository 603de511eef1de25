/**
 * Errors raft-level adds to raft-core's (`StorageFailedError`, `StorageCorruptError`,
 * `LogRangeError`, `SnapshotNotFoundError`, `SnapshotCorruptError`, which it also raises). Each
 * has a stable `name` and a message that names the folder and says what to do.
 */

/** Another process (or another open in this one) holds the store's lock. */
export class StorageLockedError extends Error {
  static readonly code = 'StorageLockedError'
  override readonly name = 'StorageLockedError'
}

/** The store was written in a format this release cannot read (a newer release wrote it). */
export class StorageVersionError extends Error {
  static readonly code = 'StorageVersionError'
  override readonly name = 'StorageVersionError'
}

/** The store could not be opened for a reason other than a lock, a version or corruption. */
export class StorageOpenError extends Error {
  static readonly code = 'StorageOpenError'
  override readonly name = 'StorageOpenError'
}

/** An entry, hard state or snapshot metadata handed to a store cannot be stored as it is. */
export class InvalidRecordError extends Error {
  static readonly code = 'InvalidRecordError'
  override readonly name = 'InvalidRecordError'
}

/** The store was closed; open it again to use it. */
export class StorageClosedError extends Error {
  static readonly code = 'StorageClosedError'
  override readonly name = 'StorageClosedError'
}
