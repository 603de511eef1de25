/**
 * 1.x's api.Metric: what an informer measured on one peer, valid until `expire`. Times are
 * milliseconds here; the JSON carries Go's UnixNano integers, written as digits so that they
 * keep every nanosecond (a JS number cannot hold them exactly).
 */
export interface Metric {
  readonly name: string
  readonly peer: string
  readonly value: string
  /** Milliseconds since the epoch after which the metric is no longer valid. */
  readonly expire: number
  readonly valid: boolean
  /** Higher sorts first in the balanced allocator (freespace: bytes free; numpin: -pins). */
  readonly weight: number
  /** Peers with the same value form one group (tags), instead of one partition each. */
  readonly partitionable: boolean
  /** Milliseconds since the epoch when this peer received it (0 until received). */
  readonly receivedAt: number
}

/** 1.x's api.Alert: a metric that expired without a newer one, and when that was noticed. */
export interface Alert {
  readonly metric: Metric
  readonly triggeredAt: number
}

/** The name of the monitor's liveness metric. */
export const PING_METRIC = 'ping'

export function isExpired(metric: Metric, now: number): boolean {
  return metric.expire <= now
}

/** Go's json.Marshal escapes `<`, `>` and `&` in strings. */
function goString(value: string): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
}

function nanoseconds(milliseconds: number): string {
  if (milliseconds <= 0) return '0'
  return `${Math.trunc(milliseconds)}000000`
}

/** Go's RFC 3339 with nanoseconds, as time.Time marshals. */
function goTime(milliseconds: number): string {
  if (milliseconds <= 0) return '0001-01-01T00:00:00Z'
  const iso = new Date(milliseconds).toISOString()
  const fraction = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`
}

function metricFields(metric: Metric): string {
  // Field order as 1.x; its JSON tags have no omitempty, so an empty value is written too.
  return [
    `"name":${goString(metric.name)}`,
    `"peer":${goString(metric.peer)}`,
    `"value":${goString(metric.value)}`,
    `"expire":${nanoseconds(metric.expire)}`,
    `"valid":${metric.valid}`,
    `"weight":${Math.trunc(metric.weight)}`,
    `"partitionable":${metric.partitionable}`,
    `"received_at":${nanoseconds(metric.receivedAt)}`,
  ].join(',')
}

/** The JSON 1.x's REST API writes for a Metric (`GET /monitor/metrics/{name}`). */
export function metricToJson(metric: Metric): string {
  return `{${metricFields(metric)}}`
}

/** The JSON 1.x writes for an Alert: the embedded Metric's fields, then `triggered_at`. */
export function alertToJson(alert: Alert): string {
  return `{${metricFields(alert.metric)},"triggered_at":${goString(goTime(alert.triggeredAt))}}`
}

/** A metric as sent between peers: the same fields, times in milliseconds. */
export interface MetricWire {
  name: string
  value: string
  expire: number
  valid: boolean
  weight: number
  partitionable: boolean
}

export function metricToWire(metric: Metric): MetricWire {
  return {
    name: metric.name,
    value: metric.value,
    expire: metric.expire,
    valid: metric.valid,
    weight: metric.weight,
    partitionable: metric.partitionable,
  }
}

/**
 * Checks a metric from the network. The peer is the one the connection came from, never what
 * the message says, so a peer can only speak for itself.
 */
export function metricFromWire(value: unknown, peer: string, receivedAt: number): Metric {
  if (typeof value !== 'object' || value === null) throw new TypeError('a metric is an object')
  const wire = value as Record<string, unknown>
  if (typeof wire.name !== 'string' || wire.name === '' || wire.name.length > 256)
    throw new TypeError('a metric needs a name of 1 to 256 characters')
  if (typeof wire.value !== 'string' || wire.value.length > 4096)
    throw new TypeError(`metric ${wire.name}: value must be a string of at most 4096 characters`)
  if (typeof wire.expire !== 'number' || !Number.isSafeInteger(wire.expire))
    throw new TypeError(`metric ${wire.name}: expire must be an integer (ms)`)
  if (typeof wire.valid !== 'boolean' || typeof wire.partitionable !== 'boolean')
    throw new TypeError(`metric ${wire.name}: valid and partitionable must be booleans`)
  if (typeof wire.weight !== 'number' || !Number.isFinite(wire.weight))
    throw new TypeError(`metric ${wire.name}: weight must be a number`)
  return {
    name: wire.name,
    peer,
    value: wire.value,
    expire: wire.expire,
    valid: wire.valid,
    weight: wire.weight,
    partitionable: wire.partitionable,
    receivedAt,
  }
}
