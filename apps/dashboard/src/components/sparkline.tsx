import { formatNumber } from '../format.ts'
import type { ChartPoint } from '../metrics-history.ts'

/**
 * A small line chart of the last minutes (inline SVG, no library): gaps where an interval had
 * nothing to measure, the latest value and the maximum written beside it for screen readers too.
 */
export function Sparkline(props: {
  label: string
  unit: string
  points: readonly ChartPoint[]
  width?: number
  height?: number
}) {
  const width = props.width ?? 320
  const height = props.height ?? 80
  const values = props.points.flatMap((point) => (point.value === null ? [] : [point.value]))
  const max = Math.max(0, ...values)
  const first = props.points[0]?.time ?? 0
  const last = props.points.at(-1)?.time ?? 1
  const span = Math.max(1, last - first)
  const x = (time: number) => ((time - first) / span) * (width - 4) + 2
  const y = (value: number) => height - 4 - (max === 0 ? 0 : (value / max) * (height - 12))
  const segments: string[] = []
  let current = ''
  for (const point of props.points) {
    if (point.value === null) {
      if (current !== '') segments.push(current)
      current = ''
      continue
    }
    current += `${current === '' ? 'M' : 'L'}${x(point.time).toFixed(1)},${y(point.value).toFixed(1)} `
  }
  if (current !== '') segments.push(current)
  const latest = [...props.points].reverse().find((point) => point.value !== null)?.value ?? null
  const summary = `${props.label}: latest ${formatNumber(latest, 2)} ${props.unit}, highest ${formatNumber(max, 2)} ${props.unit} over the last ${Math.round(span / 60_000) || '<1'} min`
  return (
    <figure class="chart">
      <figcaption>
        <span>{props.label}</span>
        <strong>
          {formatNumber(latest, 2)} {props.unit}
        </strong>
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={summary}
        preserveAspectRatio="none"
      >
        <line x1="0" y1={height - 4} x2={width} y2={height - 4} class="axis" />
        {segments.map((path) => (
          <path key={path} d={path} class="series" />
        ))}
        {props.points.map((point) =>
          point.value === null ? null : (
            <circle key={point.time} cx={x(point.time)} cy={y(point.value)} r="2.5" class="point" />
          ),
        )}
      </svg>
      <small>
        max {formatNumber(max, 2)} {props.unit}
        {props.points.length < 2 ? ' · collecting…' : ''}
      </small>
    </figure>
  )
}
