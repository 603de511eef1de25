import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Logger } from '@pinraft/raft-core'
import type { AbortOptions } from './informers.ts'
import { type Metric, metricFromWire, metricToWire } from './metric.ts'
import type { MetricsTransport } from './monitor.ts'

/**
 * The monitor's protocol over the cluster's private libp2p host: one stream per publication,
 * one length-prefixed JSON frame `{"metrics":[…]}`. The sender is the connection's peer; a
 * metric claiming another peer cannot be expressed.
 */
export const MONITOR_PROTOCOL = '/pinraft/monitor/1.0.0'

const maxFrameBytes = 256 * 1024
const maxMetrics = 256
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export type MonitorHost = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

export function createLibp2pMetricsTransport(
  host: MonitorHost,
  options: { timeout?: number } = {},
): MetricsTransport {
  const timeout = options.timeout ?? 10_000
  return {
    async send(peer, metrics, callOptions) {
      const signal = AbortSignal.any([
        ...(callOptions?.signal === undefined ? [] : [callOptions.signal]),
        AbortSignal.timeout(timeout),
      ])
      const stream = await host.dialProtocol(peerIdFromString(peer), MONITOR_PROTOCOL, { signal })
      try {
        const framed = lpStream(stream, { maxDataLength: maxFrameBytes })
        await framed.write(encoder.encode(JSON.stringify({ metrics: metrics.map(metricToWire) })), {
          signal,
        })
        await stream.close({ signal })
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)))
        throw error
      }
    },
  }
}

/** Serves the protocol: each valid metric received goes to `receive`. */
export async function handleMonitorProtocol(
  host: MonitorHost,
  receive: (metric: Metric) => void,
  options: { now: () => number; logger: Logger; timeout?: number } & AbortOptions,
): Promise<void> {
  const timeout = options.timeout ?? 10_000
  await host.handle(
    MONITOR_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString()
      try {
        const framed = lpStream(stream, { maxDataLength: maxFrameBytes })
        const frame: unknown = JSON.parse(
          decoder.decode((await framed.read({ signal: AbortSignal.timeout(timeout) })).subarray()),
        )
        const list = (frame as { metrics?: unknown } | null)?.metrics
        if (!Array.isArray(list) || list.length > maxMetrics)
          throw new TypeError(`expected {"metrics":[…]} with at most ${maxMetrics} metrics`)
        const now = options.now()
        const metrics = list.map((value) => metricFromWire(value, peer, now))
        for (const metric of metrics) receive(metric)
        await stream.close().catch(() => {})
      } catch (error) {
        options.logger.debug('bad monitor message', { peer, error: String(error) })
        stream.abort(error instanceof Error ? error : new Error(String(error)))
      }
    },
    { maxInboundStreams: 32 },
  )
}
