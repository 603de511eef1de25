import type { Alert, Metric } from '../api-types.ts'
import { formatBytes, shortId } from '../format.ts'
import type { ChartPoint } from '../metrics-history.ts'
import type { Polled } from '../polling.ts'
import { Sparkline } from './sparkline.tsx'

function notAvailable(route: string) {
  return <p class="note">{route} is not available on this peer.</p>
}

/** Horizontal bars of one informer's metric, one per peer (1.x's `freespace`, `numpin`). */
function MetricBars(props: {
  title: string
  route: string
  metrics: Polled<Metric[]>
  names: ReadonlyMap<string, string>
  format(value: number): string
}) {
  const { metrics } = props
  const values = (metrics.value ?? []).map((metric) => ({
    metric,
    value: Number(metric.value),
  }))
  const max = Math.max(
    1,
    ...values.map((entry) => (Number.isFinite(entry.value) ? entry.value : 0)),
  )
  return (
    <div class="bars">
      <h3>{props.title}</h3>
      {metrics.unavailable ? (
        notAvailable(props.route)
      ) : metrics.error !== null ? (
        <p class="note error">{metrics.error.message}</p>
      ) : values.length === 0 ? (
        <p class="note">no values yet</p>
      ) : (
        <ul>
          {values.map(({ metric, value }) => (
            <li key={metric.peer} class={metric.valid ? '' : 'stale'}>
              <span class="bar-label">{props.names.get(metric.peer) ?? shortId(metric.peer)}</span>
              <span class="bar" style={{ width: `${Math.max(2, (value / max) * 100)}%` }} />
              <span class="bar-value">
                {Number.isFinite(value) ? props.format(value) : metric.value}
                {metric.valid ? '' : ' (expired)'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** Charts of this peer's counters, the informers' metrics per peer, and current alerts. */
export function MetricsPanel(props: {
  metricsError: Error | null
  commitLatency: readonly ChartPoint[]
  pinsPerSecond: readonly ChartPoint[]
  freespace: Polled<Metric[]>
  numpin: Polled<Metric[]>
  alerts: Polled<Alert[]>
  names: ReadonlyMap<string, string>
}) {
  return (
    <section id="metrics" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Metrics and alerts</h2>
      {props.metricsError !== null ? (
        <p class="note error">GET /metrics: {props.metricsError.message}</p>
      ) : null}
      <div class="charts">
        <Sparkline label="Commit latency (this peer)" unit="ms" points={props.commitLatency} />
        <Sparkline label="Pins applied per second" unit="/s" points={props.pinsPerSecond} />
      </div>
      <div class="bar-groups">
        <MetricBars
          title="Free space"
          route="GET /monitor/metrics/freespace"
          metrics={props.freespace}
          names={props.names}
          format={formatBytes}
        />
        <MetricBars
          title="Pins per peer"
          route="GET /monitor/metrics/numpin"
          metrics={props.numpin}
          names={props.names}
          format={(value) => String(value)}
        />
      </div>
      <h3>Alerts</h3>
      {props.alerts.unavailable ? (
        notAvailable('GET /health/alerts')
      ) : props.alerts.error !== null ? (
        <p class="note error">{props.alerts.error.message}</p>
      ) : (props.alerts.value ?? []).length === 0 ? (
        <p class="note">No alerts.</p>
      ) : (
        <ul class="alerts">
          {(props.alerts.value ?? []).map((alert) => (
            <li key={`${alert.peer}-${alert.name}-${alert.triggered_at}`}>
              <strong>{alert.name}</strong> on {props.names.get(alert.peer) ?? shortId(alert.peer)}{' '}
              since {alert.triggered_at}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
