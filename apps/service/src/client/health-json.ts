/** 1.x's Metric as `GET /monitor/metrics/{name}` answers it (times: UnixNano). */
export interface MetricJson {
  name: string
  peer: string
  value?: string
  expire: number
  valid: boolean
  weight: number
  partitionable: boolean
  received_at: number
}

/** 1.x's Alert: the expired Metric and when it was noticed (RFC 3339). */
export interface AlertJson extends MetricJson {
  triggered_at: string
}

/** 1.x's ConnectGraph, as `GET /health/graph` answers it. */
export interface ConnectGraphJson {
  cluster_id: string
  id_to_peername: Record<string, string> | null
  ipfs_links: Record<string, string[] | null> | null
  cluster_links: Record<string, string[] | null> | null
  cluster_trust_links: Record<string, boolean> | null
  cluster_to_ipfs: Record<string, string> | null
}

/** 1.x's Bandwidth of one protocol: totals in bytes, rates in bytes per second. */
export interface BandwidthJson {
  total_in: number
  total_out: number
  rate_in: number
  rate_out: number
}

export type BandwidthByProtocolJson = Record<string, BandwidthJson>
