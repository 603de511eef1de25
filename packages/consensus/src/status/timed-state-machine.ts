import type { StateMachine } from '@pinraft/raft-core'
import type { ApplyResult, PinsetState } from '@pinraft/state-pinset'

/** Told how long each apply took, in milliseconds. */
export type ApplyListener = (milliseconds: number) => void

/** `pinset` as Raft applies it, timed only while someone listens (no clock read otherwise). */
export function timedStateMachine(
  pinset: PinsetState,
  listeners: ReadonlySet<ApplyListener>,
): StateMachine<ApplyResult> {
  return {
    apply(command) {
      if (listeners.size === 0) return pinset.apply(command)
      const started = performance.now()
      const result = pinset.apply(command)
      const milliseconds = performance.now() - started
      for (const listener of listeners) listener(milliseconds)
      return result
    },
    snapshot: (options) => pinset.snapshot(options),
    restore: (data, options) => pinset.restore(data, options),
  }
}
