import { describe, expect, it } from 'vitest'
import { MetricsHistory, readingFromSamples } from '../src/metrics-history.ts'
import { parsePrometheus } from '../src/prometheus.ts'

function reading(time: number, pinsApplied: number, commitSeconds: number, commits: number) {
  return { time, pinsApplied, commitSeconds, commits }
}

describe('MetricsHistory', () => {
  it('turns counters into pins per second and mean commit latency per interval', () => {
    const history = new MetricsHistory()
    history.add(reading(0, 10, 1, 10))
    history.add(reading(2000, 20, 1.5, 15))
    history.add(reading(4000, 20, 1.5, 15))
    expect(history.pinsPerSecond()).toEqual([
      { time: 2000, value: 5 },
      { time: 4000, value: 0 },
    ])
    // 0.5 s over 5 commits: 100 ms each; nothing committed in the second interval.
    expect(history.commitLatency()).toEqual([
      { time: 2000, value: 100 },
      { time: 4000, value: null },
    ])
  })

  it('starts over when a counter goes down (the peer restarted) instead of a negative rate', () => {
    const history = new MetricsHistory()
    history.add(reading(0, 50, 5, 50))
    history.add(reading(1000, 2, 0.1, 2))
    expect(history.pinsPerSecond()).toEqual([{ time: 1000, value: null }])
    expect(history.commitLatency()).toEqual([{ time: 1000, value: null }])
  })

  it('keeps only the window and ignores readings out of order', () => {
    const history = new MetricsHistory(10_000)
    for (let time = 0; time <= 30_000; time += 5000) history.add(reading(time, time, 0, 0))
    history.add(reading(1000, 0, 0, 0))
    expect(history.size).toBe(3)
    expect(history.pinsPerSecond().map((point) => point.time)).toEqual([25_000, 30_000])
  })

  it('reads the counters from /metrics’ samples, pin and unpin latencies together', () => {
    const samples = parsePrometheus(
      [
        'pinraft_pins_applied_total 7',
        'pinraft_commit_latency_seconds_sum{operation="pin"} 0.3',
        'pinraft_commit_latency_seconds_count{operation="pin"} 3',
        'pinraft_commit_latency_seconds_sum{operation="unpin"} 0.1',
        'pinraft_commit_latency_seconds_count{operation="unpin"} 1',
      ].join('\n'),
    )
    expect(readingFromSamples(42, samples)).toEqual(reading(42, 7, 0.4, 4))
  })
})
