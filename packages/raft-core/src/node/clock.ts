/**
 * Time for the driver, injected so that tests and simulations control it. The Raft state
 * machine itself never sees a clock: the driver turns time into ticks.
 */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale. */
  now(): number
  setTimeout(callback: () => void, milliseconds: number): unknown
  clearTimeout(handle: unknown): void
}

/** The runtime's own timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, milliseconds) => setTimeout(callback, milliseconds),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
}

interface Timer {
  readonly id: number
  readonly at: number
  readonly callback: () => void
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that falls due, in order,
 * letting promises settle between them.
 */
export class ManualClock implements Clock {
  private current: number
  private nextId = 1
  private timers: Timer[] = []

  constructor(start = 0) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(callback: () => void, milliseconds: number): unknown {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, milliseconds), callback }
    this.timers.push(timer)
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle)
  }

  /** Moves time forward by `milliseconds`, firing due timers (and awaiting microtasks) in order. */
  async advance(milliseconds: number): Promise<void> {
    const target = this.current + milliseconds
    for (;;) {
      await settle()
      let due: Timer | undefined
      for (const timer of this.timers) {
        if (
          timer.at <= target &&
          (due === undefined || timer.at < due.at || (timer.at === due.at && timer.id < due.id))
        ) {
          due = timer
        }
      }
      if (due === undefined) break
      this.timers = this.timers.filter((timer) => timer !== due)
      this.current = Math.max(this.current, due.at)
      due.callback()
    }
    this.current = target
    await settle()
  }

  get pendingTimers(): number {
    return this.timers.length
  }
}

/** Lets queued promise callbacks run (a few rounds, for chains of awaits). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await Promise.resolve()
  }
}
