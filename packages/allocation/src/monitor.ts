import { type Clock, type Logger, silentLogger, systemClock } from '@pinraft/raft-core'
import type { AbortOptions, Informer } from './informers.ts'
import { type Alert, isExpired, type Metric, PING_METRIC } from './metric.ts'
import { phi } from './phi.ts'

/** How the monitor sends this peer's metrics to another peer. */
export interface MetricsTransport {
  send(peer: string, metrics: readonly Metric[], options?: AbortOptions): Promise<void>
}

export interface MonitorComponents {
  readonly peerId: string
  readonly informers: readonly Informer[]
  /** The cluster's members (consensus.peers). */
  peers(options?: AbortOptions): Promise<string[]>
  readonly transport: MetricsTransport
  /**
   * The value of this peer's `ping` (1.x: `{"peer_name","ipfs_id","ipfs_addresses"}` as JSON, so
   * that the others know its name and IPFS node); '' when unset or when it fails.
   */
  pingValue?(options?: AbortOptions): Promise<string>
  readonly clock?: Clock
  readonly logger?: Logger
}

export interface MonitorInit {
  /** `cluster.monitor_ping_interval` (ms, 1.x: 15s): publish metrics and a ping this often. */
  readonly pingInterval?: number
  /** `monitor.pubsubmon.check_interval` (ms, 1.x: 15s): look for expired pings this often. */
  readonly checkInterval?: number
  /** `monitor.pubsubmon.failure_threshold` (1.x: 3): the phi above which a peer has failed. */
  readonly failureThreshold?: number
}

export interface MonitorEvents {
  'alert:raised': Alert
}

/** How many ping gaps per peer the failure detector remembers. */
const gapWindow = 10

/**
 * 1.x's PeerMonitor (pubsubmon's behaviour over direct streams): every `pingInterval` this peer
 * measures its informers and sends the metrics and a `ping`, valid for twice the interval, to
 * every other member. It keeps the latest metric per name and peer, and every `checkInterval`
 * raises one `alert:raised` for each ping that expired without a newer one once the phi accrual
 * detector passes `failureThreshold`.
 */
export class Monitor extends EventTarget {
  readonly #components: MonitorComponents
  readonly #clock: Clock
  readonly #logger: Logger
  readonly pingInterval: number
  readonly checkInterval: number
  readonly failureThreshold: number
  /** name → peer → latest metric. */
  readonly #latest = new Map<string, Map<string, Metric>>()
  readonly #gaps = new Map<string, number[]>()
  readonly #alerted = new Set<string>()
  readonly #alerts: Alert[] = []
  #publishTimer: unknown = null
  #checkTimer: unknown = null
  #running = false

  constructor(components: MonitorComponents, init: MonitorInit = {}) {
    super()
    this.#components = components
    this.#clock = components.clock ?? systemClock
    this.#logger = components.logger ?? silentLogger
    this.pingInterval = init.pingInterval ?? 15_000
    this.checkInterval = init.checkInterval ?? 15_000
    this.failureThreshold = init.failureThreshold ?? 3
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#schedulePublish(0)
    this.#scheduleCheck()
  }

  stop(): void {
    this.#running = false
    if (this.#publishTimer !== null) this.#clock.clearTimeout(this.#publishTimer)
    if (this.#checkTimer !== null) this.#clock.clearTimeout(this.#checkTimer)
    this.#publishTimer = null
    this.#checkTimer = null
  }

  #schedulePublish(delay: number): void {
    if (!this.#running) return
    this.#publishTimer = this.#clock.setTimeout(() => {
      this.#publishTimer = null
      let next = this.pingInterval
      void this.publish()
        .then((metrics) => {
          next = this.#nextPublication(metrics)
        })
        .catch((error: unknown) =>
          this.#logger.warn('could not publish metrics', { error: String(error) }),
        )
        .finally(() => this.#schedulePublish(next))
    }, delay)
  }

  /**
   * Every ping interval, or sooner when an informer's metrics live shorter: 1.x sends each
   * informer's metrics every TTL/2, so that a valid one is always there (numpin's 10s TTL is
   * shorter than the 15s ping interval).
   */
  #nextPublication(metrics: readonly Metric[]): number {
    const now = this.#clock.now()
    let next = this.pingInterval
    for (const metric of metrics) {
      if (metric.name === PING_METRIC) continue
      const ttl = metric.expire - now
      if (ttl > 0) next = Math.min(next, Math.max(100, Math.floor(ttl / 2)))
    }
    return next
  }

  #scheduleCheck(): void {
    if (!this.#running) return
    this.#checkTimer = this.#clock.setTimeout(() => {
      this.#checkTimer = null
      this.check()
      this.#scheduleCheck()
    }, this.checkInterval)
  }

  /** Measures this peer's metrics and sends them, with a ping, to every other member. */
  async publish(options?: AbortOptions): Promise<Metric[]> {
    let pingValue = ''
    try {
      pingValue = (await this.#components.pingValue?.(options)) ?? ''
    } catch (error) {
      options?.signal?.throwIfAborted()
      this.#logger.debug('could not compute the ping value', { error: String(error) })
    }
    const now = this.#clock.now()
    const metrics: Metric[] = [
      {
        name: PING_METRIC,
        peer: this.#components.peerId,
        value: pingValue,
        expire: now + 2 * this.pingInterval,
        valid: true,
        weight: 0,
        partitionable: false,
        receivedAt: 0,
      },
    ]
    for (const informer of this.#components.informers) {
      metrics.push(...(await informer.getMetrics(options)))
    }
    for (const metric of metrics) this.receive(metric)
    const members = await this.#components.peers(options)
    this.#forgetNonMembers(members)
    // A peer that does not answer must not delay the next ping to the others (they would take
    // this peer for dead): each send gets at most one ping interval.
    const bound = AbortSignal.timeout(this.pingInterval)
    const signal = options?.signal === undefined ? bound : AbortSignal.any([options.signal, bound])
    await Promise.all(
      members
        .filter((peer) => peer !== this.#components.peerId)
        .map((peer) =>
          this.#components.transport.send(peer, metrics, { signal }).catch((error: unknown) => {
            this.#logger.debug('could not send metrics', { peer, error: String(error) })
          }),
        ),
    )
    return metrics
  }

  /** Keeps a metric received from its peer (or measured here); the newest one wins. */
  receive(metric: Metric): void {
    const now = this.#clock.now()
    const stored: Metric = { ...metric, receivedAt: now }
    let byPeer = this.#latest.get(metric.name)
    if (byPeer === undefined) {
      byPeer = new Map()
      this.#latest.set(metric.name, byPeer)
    }
    const previous = byPeer.get(metric.peer)
    if (metric.name === PING_METRIC && previous !== undefined) {
      const gaps = this.#gaps.get(metric.peer) ?? []
      gaps.push(now - previous.receivedAt)
      if (gaps.length > gapWindow) gaps.shift()
      this.#gaps.set(metric.peer, gaps)
    }
    byPeer.set(metric.peer, stored)
    this.#alerted.delete(`${metric.name}\u0000${metric.peer}`)
  }

  /** Forgets a peer's metrics (it left the cluster). */
  forget(peer: string): void {
    for (const byPeer of this.#latest.values()) byPeer.delete(peer)
    this.#gaps.delete(peer)
    for (const key of this.#alerted) if (key.endsWith(`\u0000${peer}`)) this.#alerted.delete(key)
  }

  /**
   * A peer removed from consensus is forgotten at the next publication: its metrics no longer
   * place pins and its silence raises no alert (1.x's monitor asks consensus for the peers too).
   */
  #forgetNonMembers(members: readonly string[]): void {
    const current = new Set(members)
    current.add(this.#components.peerId)
    const known = new Set<string>()
    for (const byPeer of this.#latest.values()) for (const peer of byPeer.keys()) known.add(peer)
    for (const peer of known) if (!current.has(peer)) this.forget(peer)
  }

  /** The latest valid, unexpired metric of `name` from every peer (1.x's LatestMetrics). */
  latestMetrics(name: string): Metric[] {
    const now = this.#clock.now()
    const result: Metric[] = []
    for (const metric of this.#latest.get(name)?.values() ?? []) {
      if (metric.valid && !isExpired(metric, now)) result.push(metric)
    }
    return result.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  }

  /** The names of the metrics this peer knows (1.x's MetricNames). */
  metricNames(): string[] {
    return [...this.#latest.keys()].sort()
  }

  /** Alerts raised so far, oldest first (1.x keeps them for `GET /health/alerts`). */
  alerts(): Alert[] {
    const horizon = this.#clock.now() - 2 * this.checkInterval * 10
    return this.#alerts.filter((alert) => alert.triggeredAt >= horizon)
  }

  /** Raises an alert for every expired ping whose peer the detector considers failed. */
  check(): Alert[] {
    const now = this.#clock.now()
    const raised: Alert[] = []
    for (const [peer, metric] of this.#latest.get(PING_METRIC) ?? []) {
      if (peer === this.#components.peerId || !isExpired(metric, now)) continue
      const key = `${PING_METRIC}\u0000${peer}`
      if (this.#alerted.has(key)) continue
      const gaps = this.#gaps.get(peer) ?? []
      if (gaps.length > 0 && phi(now - metric.receivedAt, gaps) < this.failureThreshold) continue
      this.#alerted.add(key)
      const alert: Alert = { metric, triggeredAt: now }
      raised.push(alert)
      this.#alerts.push(alert)
      if (this.#alerts.length > 1000) this.#alerts.shift()
      this.dispatchEvent(new CustomEvent('alert:raised', { detail: alert }))
    }
    return raised
  }
}
