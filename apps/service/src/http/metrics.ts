import type { TypedEventTarget } from '@libp2p/interface'
import type { Consensus } from '@pinraft/consensus'
import type { RaftTransportEvents } from '@pinraft/raft-libp2p'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The peer's Prometheus metrics (prom-client): Node's and the process's default metrics, gauges
 * read from `consensus.status()` at each scrape, counters fed by consensus's events and by the
 * API, and histograms of what this peer's API submits. Every counter is cumulative since start.
 */
export interface PeerMetrics {
  readonly registry: Registry
  readonly contentType: string
  /** One answered HTTP request; `route` is the route's pattern (`/pins/:cid`), not the path. */
  httpRequest(method: string, route: string, status: number): void
  /** Times an operation submitted through this peer until it is committed and applied here. */
  timeCommit<T>(operation: 'pin' | 'unpin', run: () => Promise<T>): Promise<T>
  text(): Promise<string>
  /** Removes the consensus listeners. */
  stop(): void
}

export interface PeerMetricsOptions {
  /** Node and process metrics (`process_*`, `nodejs_*`); on by default. */
  readonly defaultMetrics?: boolean
  /** The Raft transport, for its dropped messages and rejected streams. */
  readonly transport?: TypedEventTarget<RaftTransportEvents>
}

/** Seconds; from a local commit (about a millisecond) to a slow disk behind a quorum. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createPeerMetrics(
  consensus: Consensus,
  options: PeerMetricsOptions = {},
): PeerMetrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const status = () => consensus.status()
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value())
      },
    })
  gauge('pinraft_raft_leader', '1 when this peer is the Raft leader, else 0.', () =>
    status().role === 'leader' ? 1 : 0,
  )
  gauge('pinraft_raft_leader_known', '1 when this peer knows a leader, else 0.', () =>
    status().leader === null ? 0 : 1,
  )
  gauge('pinraft_raft_term', 'The current Raft term.', () => status().term)
  gauge(
    'pinraft_raft_commit_index',
    'The highest log index known to be committed.',
    () => status().commitIndex,
  )
  gauge(
    'pinraft_raft_applied_index',
    "The highest log index applied to this peer's state.",
    () => status().appliedIndex,
  )
  gauge(
    'pinraft_consensus_ready',
    '1 when consensus is ready (leader known, voter, caught up).',
    () => (consensus.isReady ? 1 : 0),
  )
  gauge('pinraft_pins', "Pins in this peer's copy of the shared pinset.", () => status().pins)
  gauge('pinraft_peers', 'Members of the peerset (voters and staging peers).', () => {
    const current = status()
    return new Set([...current.voters, ...current.nonVoters]).size
  })
  gauge('pinraft_peers_voters', 'Voting members of the peerset.', () => status().voters.length)

  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] })
  const pinsApplied = counter(
    'pinraft_pins_applied_total',
    "Pins (new or changed) applied to this peer's state.",
  )
  const unpinsApplied = counter(
    'pinraft_unpins_applied_total',
    "Unpins applied to this peer's state.",
  )
  const leaderChanges = counter(
    'pinraft_raft_leader_changes_total',
    'Changes of the leader this peer knows (to a leader or to none).',
  )
  const elections = counter(
    'pinraft_raft_elections_total',
    'Elections this peer has seen: increases of the Raft term.',
  )
  const snapshotsInstalled = counter(
    'pinraft_snapshots_installed_total',
    "Snapshots installed on this peer (its whole state replaced by the leader's).",
  )
  const httpRequests = counter(
    'pinraft_http_requests_total',
    'HTTP API requests answered, by method, route and status.',
    ['method', 'route', 'status'],
  )
  const commitLatency = new Histogram({
    name: 'pinraft_commit_latency_seconds',
    help: 'Time from submitting an operation through this peer to its commit and apply here.',
    labelNames: ['operation'],
    buckets: latencyBuckets,
    registers: [registry],
  })

  // Counted by consensus; read when scraped (they only grow while the peer runs).
  const countedByConsensus = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(value())
      },
    })
  countedByConsensus(
    'pinraft_proposals_forwarded_total',
    'Operations this peer forwarded to the leader (submitted here while it was a follower).',
    () => status().proposalsForwarded,
  )
  countedByConsensus(
    'pinraft_snapshots_sent_total',
    'Snapshots this peer sent whole to another peer (as leader, to a peer too far behind).',
    () => status().snapshotsSent,
  )
  new Gauge({
    name: 'pinraft_raft_follower_lag_entries',
    help: 'On the leader: how many entries of its log each other member lacks (0 when caught up).',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [peer, replication] of Object.entries(status().replication)) {
        this.set({ peer }, replication.lag)
      }
    },
  })
  const applyLatency = new Histogram({
    name: 'pinraft_apply_latency_seconds',
    help: "Time to apply one committed operation to this peer's pinset.",
    buckets: [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1],
    registers: [registry],
  })
  const stopObservingApply = consensus.observeApply((milliseconds) =>
    applyLatency.observe(milliseconds / 1000),
  )

  let lastLeader = status().leader
  let lastTerm = status().term
  const listeners = new AbortController()
  const signal = listeners.signal
  consensus.addEventListener('pin:add', () => pinsApplied.inc(), { signal })
  consensus.addEventListener('pin:remove', () => unpinsApplied.inc(), { signal })
  consensus.addEventListener('state:restore', () => snapshotsInstalled.inc(), { signal })
  consensus.addEventListener(
    'leader:change',
    (event) => {
      if (event.detail.term > lastTerm) elections.inc(event.detail.term - lastTerm)
      lastTerm = Math.max(lastTerm, event.detail.term)
      if (event.detail.leader !== lastLeader) leaderChanges.inc()
      lastLeader = event.detail.leader
    },
    { signal },
  )

  const transport = options.transport
  if (transport !== undefined) {
    const dropped = counter(
      'pinraft_raft_messages_dropped_total',
      'Raft messages the transport dropped, by direction and reason (unreachable, queue-full, ...).',
      ['direction', 'reason'],
    )
    const rejected = counter(
      'pinraft_raft_streams_rejected_total',
      'Inbound Raft streams closed for a bad frame or a peer outside the peerset.',
      ['error'],
    )
    transport.addEventListener(
      'message:dropped',
      (event) =>
        dropped.inc(
          { direction: event.detail.direction, reason: event.detail.reason },
          event.detail.count,
        ),
      { signal },
    )
    transport.addEventListener(
      'stream:rejected',
      (event) => rejected.inc({ error: event.detail.error.name }),
      { signal },
    )
  }

  // Per request, prom-client hashes the label object of each `inc`/`observe`; the labelled
  // children are kept instead (bounded: methods × route patterns × statuses, two operations).
  const requestCounters = new Map<string, { inc(): void }>()
  const commitTimers = {
    pin: commitLatency.labels({ operation: 'pin' }),
    unpin: commitLatency.labels({ operation: 'unpin' }),
  }
  return {
    registry,
    contentType: registry.contentType,
    httpRequest(method, route, statusCode) {
      const key = `${method} ${statusCode} ${route}`
      let child = requestCounters.get(key)
      if (child === undefined) {
        child = httpRequests.labels({ method, route, status: String(statusCode) })
        requestCounters.set(key, child)
      }
      child.inc()
    },
    async timeCommit(operation, run) {
      const started = performance.now()
      const result = await run()
      commitTimers[operation].observe((performance.now() - started) / 1000)
      return result
    },
    text: () => registry.metrics(),
    stop() {
      requestCounters.clear()
      listeners.abort()
      stopObservingApply()
      registry.clear()
    },
  }
}
