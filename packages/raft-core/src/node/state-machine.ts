import type { AbortOptions } from '../abort.ts'

/** A committed command, handed to the state machine in log order, exactly once per start. */
export interface Command {
  readonly index: number
  readonly term: number
  readonly data: Uint8Array
}

/**
 * The replicated state machine (paper §5, "replicated state machines"). It must be
 * deterministic: the same commands in the same order give the same state on every node.
 *
 * The node never calls `apply` while it is consuming an iterable that `snapshot` returned, so a
 * state machine may stream its live state without copying it.
 */
export interface StateMachine<Result = unknown> {
  /** Applies one committed command; its result resolves the `propose` call that made it. */
  apply(command: Command): Result | Promise<Result>
  /** The whole state, streamed in chunks, as of the last applied command. */
  snapshot(options?: AbortOptions): AsyncIterable<Uint8Array>
  /** Replaces the whole state with a snapshot's data. */
  restore(data: AsyncIterable<Uint8Array>, options?: AbortOptions): Promise<void>
}
