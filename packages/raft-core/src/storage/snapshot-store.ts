import type { AbortOptions } from '../abort.ts'
import type { SnapshotMetadata } from '../types.ts'

/** A snapshot as a store keeps it. */
export interface StoredSnapshot extends SnapshotMetadata {
  /** Unique within the store; sorts by (term, index) only by accident: use `index`/`term`. */
  readonly id: string
  /** Bytes of data. */
  readonly size: number
}

/**
 * A snapshot being written. Nothing is visible to `list` or `open` until `close` resolves;
 * `abort` discards everything written.
 */
export interface SnapshotSink {
  readonly id: string
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  /** Makes the snapshot durable and visible, atomically, and returns it. */
  close(options?: AbortOptions): Promise<StoredSnapshot>
  abort(): Promise<void>
}

export interface OpenedSnapshot {
  readonly metadata: StoredSnapshot
  /**
   * The data, streamed. A store that keeps checksums verifies them as the data goes by and
   * throws a `SnapshotCorruptError` instead of finishing if they do not match.
   */
  readonly data: AsyncIterable<Uint8Array>
}

/**
 * Snapshots of the state machine, written and read as streams so that no state is ever held
 * whole in memory. Stores keep a bounded number of snapshots, newest first.
 */
export interface SnapshotStore {
  create(metadata: SnapshotMetadata, options?: AbortOptions): Promise<SnapshotSink>
  /** Valid, complete snapshots, newest (highest index, then term) first. */
  list(options?: AbortOptions): Promise<StoredSnapshot[]>
  /** Rejects with a `SnapshotNotFoundError` for an unknown or no longer retained id. */
  open(id: string, options?: AbortOptions): Promise<OpenedSnapshot>
}
