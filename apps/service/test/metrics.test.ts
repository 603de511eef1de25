import type { TypedEventTarget } from '@libp2p/interface'
import type { RaftTransportEvents } from '@pinraft/raft-libp2p'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { watchTransport } from '../src/daemon/transport-watch.ts'
import { createPeerMetrics } from '../src/http/metrics.ts'
import type { Logger } from '../src/logging/logger.ts'
import { type ApiFixture, apiFixture, CID_V0 } from './support/api-fixture.ts'
import { cidFor } from './support/processes.ts'

let fixture: ApiFixture

beforeEach(async () => {
  fixture = await apiFixture()
})

afterEach(async () => {
  await fixture.app.close()
})

async function scrape(): Promise<string> {
  return (await fixture.app.inject({ method: 'GET', url: '/metrics' })).body
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('GET /metrics (prom-client)', () => {
  it("includes Node's and the process's default metrics", async () => {
    const text = await scrape()
    expect(text).toMatch(/^process_cpu_user_seconds_total /m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m)
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m)
  })

  it('counts commit latencies without a window: the count is every operation since start', async () => {
    for (let index = 0; index < 1100; index++)
      await fixture.app.inject({ method: 'POST', url: `/pins/${await cidFor(index)}` })
    await fixture.app.inject({ method: 'DELETE', url: `/pins/${await cidFor(0)}` })
    const text = await scrape()
    expect(value(text, 'pinraft_commit_latency_seconds_count{operation="pin"}')).toBe(1100)
    expect(value(text, 'pinraft_commit_latency_seconds_count{operation="unpin"}')).toBe(1)
    expect(text).toMatch(
      /^pinraft_commit_latency_seconds_bucket\{le="\+Inf",operation="pin"\} 1100$/m,
    )
  })

  it("reports forwarded operations, apply latency and, on the leader, each follower's lag from consensus", async () => {
    fixture.consensus.members = [fixture.consensus.peerId, 'follower-a', 'follower-b']
    fixture.consensus.forwarded = 7
    for (let index = 0; index < 3; index++)
      await fixture.app.inject({ method: 'POST', url: `/pins/${await cidFor(index)}` })
    const text = await scrape()
    expect(value(text, 'pinraft_proposals_forwarded_total')).toBe(7)
    expect(value(text, 'pinraft_snapshots_sent_total')).toBe(0)
    expect(value(text, 'pinraft_apply_latency_seconds_count')).toBe(3)
    expect(value(text, 'pinraft_raft_follower_lag_entries{peer="follower-a"}')).toBe(0)
    expect(value(text, 'pinraft_raft_follower_lag_entries{peer="follower-b"}')).toBe(0)
    fixture.consensus.role = 'follower'
    expect(await scrape()).not.toMatch(/^pinraft_raft_follower_lag_entries\{/m)
  })

  it('counts HTTP requests by method, route pattern and status', async () => {
    await fixture.app.inject({ method: 'POST', url: `/pins/${CID_V0}` })
    await fixture.app.inject({ method: 'POST', url: '/pins/not-a-cid' })
    await fixture.app.inject({ method: 'GET', url: '/nothing' })
    const text = await scrape()
    expect(
      value(text, 'pinraft_http_requests_total{method="POST",route="/pins/:cid",status="200"}'),
    ).toBe(1)
    expect(
      value(text, 'pinraft_http_requests_total{method="POST",route="/pins/:cid",status="400"}'),
    ).toBe(1)
    expect(
      value(text, 'pinraft_http_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBe(1)
  })

  it('counts pins and unpins applied, elections, leader changes and installed snapshots from consensus events', async () => {
    await fixture.consensus.logPin({ cid: CID_V0 })
    await fixture.consensus.logUnpin(CID_V0)
    fixture.consensus.dispatch('leader:change', { leader: null, term: 4 })
    fixture.consensus.dispatch('leader:change', { leader: fixture.other, term: 6 })
    fixture.consensus.dispatch('leader:change', { leader: fixture.other, term: 6 })
    fixture.consensus.dispatch('state:restore', { count: 10 })
    const text = await scrape()
    expect(value(text, 'pinraft_pins_applied_total')).toBe(1)
    expect(value(text, 'pinraft_unpins_applied_total')).toBe(1)
    // Term 3 → 6: three terms, each an election.
    expect(value(text, 'pinraft_raft_elections_total')).toBe(3)
    expect(value(text, 'pinraft_raft_leader_changes_total')).toBe(2)
    expect(value(text, 'pinraft_snapshots_installed_total')).toBe(1)
  })
})

describe('Raft transport metrics and logs', () => {
  function transport(): EventTarget & TypedEventTarget<RaftTransportEvents> {
    return new EventTarget() as EventTarget & TypedEventTarget<RaftTransportEvents>
  }
  function drop(target: EventTarget, peer: string, reason: string, count = 1): void {
    target.dispatchEvent(
      new CustomEvent('message:dropped', {
        detail: { peer, direction: 'outbound', reason, count },
      }),
    )
  }

  it('counts dropped messages by direction and reason', async () => {
    const events = transport()
    const metrics = createPeerMetrics(fixture.consensus, {
      defaultMetrics: false,
      transport: events,
    })
    drop(events, fixture.other, 'unreachable', 3)
    drop(events, fixture.other, 'queue-full')
    const text = await metrics.text()
    metrics.stop()
    expect(
      value(text, 'pinraft_raft_messages_dropped_total{direction="outbound",reason="unreachable"}'),
    ).toBe(3)
    expect(
      value(text, 'pinraft_raft_messages_dropped_total{direction="outbound",reason="queue-full"}'),
    ).toBe(1)
  })

  it('logs an unreachable peer once per interval', () => {
    const events = transport()
    const lines: Record<string, unknown>[] = []
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    )
    let clock = 0
    watchTransport(events, logger as unknown as Logger, {
      now: () => clock,
      intervalMilliseconds: 60_000,
    })
    drop(events, fixture.other, 'unreachable')
    clock = 1000
    drop(events, fixture.other, 'unreachable')
    drop(events, fixture.other, 'queue-full')
    clock = 61_000
    drop(events, fixture.other, 'unreachable')
    expect(lines.filter((line) => line.peer === fixture.other)).toHaveLength(2)
    expect(String(lines[0]!.msg)).toContain('is unreachable')
  })
})
