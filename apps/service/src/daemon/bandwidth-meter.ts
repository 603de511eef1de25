import type {
  Counter,
  CounterGroup,
  Histogram,
  HistogramGroup,
  Metric,
  MetricGroup,
  Metrics,
  Startable,
  Stream,
  StreamMessageEvent,
  Summary,
  SummaryGroup,
} from '@libp2p/interface'
import type { Bandwidth, BandwidthByProtocol, BandwidthSource } from '@pinraft/cluster'

interface Traffic {
  totalIn: number
  totalOut: number
  /** Totals when the previous second was sampled, for the rates. */
  sampledIn: number
  sampledOut: number
  rateIn: number
  rateOut: number
}

/** How often rates are sampled, and how much a new second weighs in them (as go-libp2p's meter). */
const sampleInterval = 1_000
const smoothing = 0.5

/** One object for every metric libp2p's components register: only bandwidth is kept here. */
const unrecorded: Metric &
  MetricGroup &
  Counter &
  CounterGroup &
  Histogram &
  HistogramGroup &
  Summary &
  SummaryGroup = {
  update: () => {},
  increment: () => {},
  decrement: () => {},
  reset: () => {},
  observe: () => {},
  timer: () => () => {},
}

function unregistered(name: string, options?: { calculate?: unknown }): typeof unrecorded {
  void name
  void options
  return unrecorded
}

/**
 * libp2p's `metrics` component, measuring one thing: the bytes of every protocol stream of the
 * cluster's host, in and out, with rates smoothed over seconds. It is what `GET /health/bandwidth`
 * reports (1.x's BandwidthByProtocol from go-libp2p's bandwidth counter). Other metrics libp2p's
 * components register are not kept: the daemon's Prometheus metrics come from prom-client.
 */
export class BandwidthMeter implements Metrics, Startable, BandwidthSource {
  readonly #traffic = new Map<string, Traffic>()
  #timer: NodeJS.Timeout | null = null

  start(): void {
    if (this.#timer !== null) return
    this.#timer = setInterval(() => this.sample(), sampleInterval)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  #of(protocol: string): Traffic {
    let traffic = this.#traffic.get(protocol)
    if (traffic === undefined) {
      traffic = { totalIn: 0, totalOut: 0, sampledIn: 0, sampledOut: 0, rateIn: 0, rateOut: 0 }
      this.#traffic.set(protocol, traffic)
    }
    return traffic
  }

  trackMultiaddrConnection(): void {
    // Connection bytes include the handshakes and muxer frames; 1.x reports protocols only.
  }

  trackProtocolStream(stream: Stream): void {
    const protocol = stream.protocol
    if (protocol === undefined || protocol === '') return
    const traffic = this.#of(protocol)
    stream.addEventListener('message', (event: StreamMessageEvent) => {
      traffic.totalIn += event.data.byteLength
    })
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      traffic.totalOut += data.byteLength
      return send(data)
    }
  }

  /** Folds the last second into the rates (the timer calls it; tests call it with a clock). */
  sample(elapsed = sampleInterval): void {
    for (const traffic of this.#traffic.values()) {
      const seconds = elapsed / 1_000
      const inRate = (traffic.totalIn - traffic.sampledIn) / seconds
      const outRate = (traffic.totalOut - traffic.sampledOut) / seconds
      traffic.rateIn = traffic.rateIn * (1 - smoothing) + inRate * smoothing
      traffic.rateOut = traffic.rateOut * (1 - smoothing) + outRate * smoothing
      traffic.sampledIn = traffic.totalIn
      traffic.sampledOut = traffic.totalOut
    }
  }

  byProtocol(): BandwidthByProtocol {
    const result: Record<string, Bandwidth> = {}
    for (const [protocol, traffic] of [...this.#traffic].sort(([a], [b]) => (a < b ? -1 : 1))) {
      result[protocol] = {
        totalIn: traffic.totalIn,
        totalOut: traffic.totalOut,
        rateIn: traffic.rateIn,
        rateOut: traffic.rateOut,
      }
    }
    return result
  }

  registerMetric = unregistered as Metrics['registerMetric']
  registerMetricGroup = unregistered as Metrics['registerMetricGroup']
  registerCounter = unregistered as Metrics['registerCounter']
  registerCounterGroup = unregistered as Metrics['registerCounterGroup']
  registerHistogram = unregistered as Metrics['registerHistogram']
  registerHistogramGroup = unregistered as Metrics['registerHistogramGroup']
  registerSummary = unregistered as Metrics['registerSummary']
  registerSummaryGroup = unregistered as Metrics['registerSummaryGroup']

  traceFunction<F>(_name: string, fn: F): F {
    return fn
  }

  createTrace(): undefined {
    return undefined
  }
}
