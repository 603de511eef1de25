import { describe, expect, it } from 'vitest'
import { hasSample, PrometheusParseError, parsePrometheus, sumSamples } from '../src/prometheus.ts'

// What prom-client writes for pinraft's metrics (trimmed): help and type lines, a histogram with
// labels, counters, a gauge, and a label value with escapes.
const exposition = `# HELP pinraft_commit_latency_seconds Submitted through this peer until applied here
# TYPE pinraft_commit_latency_seconds histogram
pinraft_commit_latency_seconds_bucket{le="0.005",operation="pin"} 1
pinraft_commit_latency_seconds_bucket{le="+Inf",operation="pin"} 4
pinraft_commit_latency_seconds_sum{operation="pin"} 0.25
pinraft_commit_latency_seconds_count{operation="pin"} 4
pinraft_commit_latency_seconds_sum{operation="unpin"} 0.05
pinraft_commit_latency_seconds_count{operation="unpin"} 1

# HELP pinraft_pins_applied_total Pins applied to the state
# TYPE pinraft_pins_applied_total counter
pinraft_pins_applied_total 12
pinraft_raft_term 3 1700000000000
pinraft_http_requests_total{method="GET",route="/pins/:cid",status="200"} 2
odd_label{path="a \\"quoted\\" \\\\ back\\nslash"} NaN
negative_infinity -Inf
`

describe('parsePrometheus', () => {
  it('reads every sample with its labels and skips comments and blank lines', () => {
    const samples = parsePrometheus(exposition)
    expect(samples).toHaveLength(11)
    expect(samples[1]).toEqual({
      name: 'pinraft_commit_latency_seconds_bucket',
      labels: { le: '+Inf', operation: 'pin' },
      value: 4,
    })
    expect(samples.find((sample) => sample.name === 'pinraft_http_requests_total')?.labels).toEqual(
      { method: 'GET', route: '/pins/:cid', status: '200' },
    )
  })

  it('ignores a timestamp after the value', () => {
    const [term] = parsePrometheus('pinraft_raft_term 3 1700000000000\n')
    expect(term?.value).toBe(3)
  })

  it('unescapes label values and reads NaN and infinities', () => {
    const samples = parsePrometheus(exposition)
    const odd = samples.find((sample) => sample.name === 'odd_label')
    expect(odd?.labels.path).toBe('a "quoted" \\ back\nslash')
    expect(odd?.value).toBeNaN()
    expect(samples.find((sample) => sample.name === 'negative_infinity')?.value).toBe(
      Number.NEGATIVE_INFINITY,
    )
  })

  it('says which line is wrong and why', () => {
    expect(() => parsePrometheus('ok 1\nbroken{a="x" 2\n')).toThrow(PrometheusParseError)
    expect(() => parsePrometheus('ok 1\nbroken{a="x" 2\n')).toThrow(
      /line 2: label a's value|line 2/,
    )
    expect(() => parsePrometheus('value_missing\n')).toThrow('line 1: "" is not a sample value')
    expect(() => parsePrometheus('{a="b"} 1\n')).toThrow(
      'line 1: no metric name in "{a=\\"b\\"} 1"',
    )
    expect(() => parsePrometheus('x{="b"} 1\n')).toThrow(/a label name is missing/)
  })
})

describe('sumSamples', () => {
  it('adds the samples of one name, optionally only those with some labels', () => {
    const samples = parsePrometheus(exposition)
    expect(sumSamples(samples, 'pinraft_commit_latency_seconds_count')).toBe(5)
    expect(
      sumSamples(samples, 'pinraft_commit_latency_seconds_count', { operation: 'unpin' }),
    ).toBe(1)
    expect(sumSamples(samples, 'absent_metric')).toBe(0)
    expect(hasSample(samples, 'pinraft_pins_applied_total')).toBe(true)
    expect(hasSample(samples, 'absent_metric')).toBe(false)
  })
})
