import { type Sample, sumSamples } from './prometheus.ts'

/** The counters of one `GET /metrics` reading that the charts are made of. */
export interface MetricsReading {
  /** Milliseconds since the epoch. */
  readonly time: number
  readonly pinsApplied: number
  readonly commitSeconds: number
  readonly commits: number
}

/** One point of a chart: the interval's end and its value (null: nothing happened). */
export interface ChartPoint {
  readonly time: number
  readonly value: number | null
}

export function readingFromSamples(time: number, samples: readonly Sample[]): MetricsReading {
  return {
    time,
    pinsApplied: sumSamples(samples, 'pinraft_pins_applied_total'),
    commitSeconds: sumSamples(samples, 'pinraft_commit_latency_seconds_sum'),
    commits: sumSamples(samples, 'pinraft_commit_latency_seconds_count'),
  }
}

/**
 * The last minutes of a peer's counters, as rates between consecutive readings: pins applied per
 * second, and the mean commit latency of the operations committed in each interval. A counter
 * that went down (the peer restarted) starts over instead of giving a negative rate.
 */
export class MetricsHistory {
  readonly #window: number
  readonly #readings: MetricsReading[] = []

  /** `window`: how far back to keep, in milliseconds. */
  constructor(window = 10 * 60_000) {
    this.#window = window
  }

  add(reading: MetricsReading): void {
    const last = this.#readings.at(-1)
    if (last !== undefined && reading.time <= last.time) return
    this.#readings.push(reading)
    const oldest = reading.time - this.#window
    while ((this.#readings[0]?.time ?? oldest) < oldest) this.#readings.shift()
  }

  get size(): number {
    return this.#readings.length
  }

  pinsPerSecond(): ChartPoint[] {
    return this.#intervals((previous, next) => {
      const applied = next.pinsApplied - previous.pinsApplied
      const seconds = (next.time - previous.time) / 1000
      return applied < 0 ? null : applied / seconds
    })
  }

  /** Mean commit latency per interval, in milliseconds. */
  commitLatency(): ChartPoint[] {
    return this.#intervals((previous, next) => {
      const commits = next.commits - previous.commits
      const seconds = next.commitSeconds - previous.commitSeconds
      if (commits <= 0 || seconds < 0) return null
      return (seconds / commits) * 1000
    })
  }

  #intervals(value: (previous: MetricsReading, next: MetricsReading) => number | null) {
    const points: ChartPoint[] = []
    for (let index = 1; index < this.#readings.length; index += 1) {
      const previous = this.#readings[index - 1] as MetricsReading
      const next = this.#readings[index] as MetricsReading
      points.push({ time: next.time, value: value(previous, next) })
    }
    return points
  }
}
