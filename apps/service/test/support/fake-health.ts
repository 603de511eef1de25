import type { Alert, Metric } from '@pinraft/allocation'
import type { BandwidthByProtocol, ClusterHealth, ConnectGraph } from '@pinraft/cluster'
import type { AbortOptions } from '@pinraft/consensus'

/** A metric with the fields a test does not care about filled in. */
export function metric(fields: Partial<Metric> & Pick<Metric, 'name' | 'peer'>): Metric {
  return {
    value: '',
    expire: Date.parse('2030-01-02T03:04:35Z'),
    valid: true,
    weight: 0,
    partitionable: false,
    receivedAt: Date.parse('2030-01-02T03:04:05Z'),
    ...fields,
  }
}

/**
 * A ClusterHealth that answers what the test put in it and records the calls (with whether they
 * carried a signal), so route and CLI tests run without a monitor.
 */
export class FakeClusterHealth implements ClusterHealth {
  metrics: Metric[] = []
  alertList: Alert[] = []
  graph: ConnectGraph = {
    clusterId: '',
    idToPeername: {},
    ipfsLinks: {},
    clusterLinks: {},
    clusterTrustLinks: {},
    clusterToIpfs: {},
  }
  bandwidth: BandwidthByProtocol = {}
  /** The next call throws this. */
  failure: Error | null = null
  readonly calls: { method: string; argument?: string; signal: boolean }[] = []

  #record(method: string, options: AbortOptions | undefined, argument?: string): void {
    this.calls.push({
      method,
      signal: options?.signal !== undefined,
      ...(argument === undefined ? {} : { argument }),
    })
    const failure = this.failure
    this.failure = null
    if (failure !== null) throw failure
  }

  async metricNames(options?: AbortOptions): Promise<string[]> {
    this.#record('metricNames', options)
    return [...new Set(this.metrics.map((entry) => entry.name))].sort()
  }

  async latestMetrics(name: string, options?: AbortOptions): Promise<Metric[]> {
    this.#record('latestMetrics', options, name)
    return this.metrics
      .filter((entry) => entry.name === name)
      .sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  }

  async alerts(options?: AbortOptions): Promise<Alert[]> {
    this.#record('alerts', options)
    return [...this.alertList]
  }

  async connectGraph(options?: AbortOptions): Promise<ConnectGraph> {
    this.#record('connectGraph', options)
    return this.graph
  }

  async bandwidthByProtocol(options?: AbortOptions): Promise<BandwidthByProtocol> {
    this.#record('bandwidthByProtocol', options)
    return this.bandwidth
  }
}
