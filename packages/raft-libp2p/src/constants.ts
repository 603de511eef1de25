/** The protocol Raft messages travel on: one long-lived stream per ordered pair of peers. */
export const RAFT_PROTOCOL = '/pinraft/raft/1.0.0'

/** The protocol a snapshot travels on: one stream per transfer. */
export const SNAPSHOT_PROTOCOL = '/pinraft/raft-snapshot/1.0.0'

/** Largest encoded message or snapshot frame either end accepts (bytes). */
export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024

/** Per-peer bounds of the send queue; past either, new messages to the peer are dropped. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 4096
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024

/** Most bytes handed to a stream in one write; a full queue drains in writes of this size. */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024

/** How long opening a stream (dialing included) may take (ms). */
export const DEFAULT_DIAL_TIMEOUT = 5_000

/** How long a stream may refuse more data (no drain) before it is given up as stalled (ms). */
export const DEFAULT_SEND_TIMEOUT = 10_000

/** Longest a snapshot transfer may go without progress, at either end (ms). */
export const DEFAULT_SNAPSHOT_TIMEOUT = 30_000

/** Size of the data chunks a snapshot is cut into (bytes). */
export const DEFAULT_SNAPSHOT_CHUNK_SIZE = 256 * 1024

/** Reconnection backoff after a failed dial: doubles from the first delay up to the last (ms). */
export const DEFAULT_BACKOFF_INITIAL = 100
export const DEFAULT_BACKOFF_MAX = 5_000

/** A varint length prefix above 5 bytes describes more than 32 GiB: never valid here. */
export const MAX_LENGTH_PREFIX_BYTES = 5
