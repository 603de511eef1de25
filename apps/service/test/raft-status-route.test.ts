import type { Consensus } from '@pinraft/consensus'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/http/app.ts'
import { LastErrorRecorder } from '../src/http/last-error.ts'
import {
  localRaftStatus,
  parseRaftStatusJson,
  type RaftStatusJson,
  raftStatusJson,
  withLeaderLag,
} from '../src/http/raft-status-json.ts'
import { apiFixture, CID_V1, jsonLines } from './support/api-fixture.ts'

/** The fixture's app with the two additions the daemon gives `/raft/status`. */
async function raftFixture(options: { role?: 'leader' | 'follower' } = {}) {
  const fixture = await apiFixture()
  const lastError = new LastErrorRecorder(() => Date.parse('2030-01-02T03:04:05Z'))
  if (options.role === 'follower') fixture.consensus.role = 'follower'
  const asked: string[] = []
  const app = createApp({
    context: {
      ...fixture.context,
      logger: pino({ level: 'silent' }),
      lastError,
      remoteRaftStatus: async (peer) => {
        asked.push(peer)
        if (peer !== fixture.other) throw new Error(`could not dial ${peer}`)
        return raftStatusJson({
          peer,
          peername: 'beta',
          role: 'voter',
          raft_state: 'follower',
          leader: fixture.self,
          term: 3,
          commit_index: 7,
          applied_index: 5,
          ready: true,
        })
      },
    },
  })
  await app.ready()
  return { ...fixture, app, asked, lastError }
}

describe('GET /raft/status', () => {
  it('answers this peer’s role, term, indexes and readiness, fields in a fixed order', async () => {
    const { app, self } = await raftFixture()
    const response = await app.inject({ method: 'GET', url: '/raft/status' })
    expect(response.statusCode).toBe(200)
    const body = response.json() as RaftStatusJson
    expect(Object.keys(body)).toEqual([
      'peer',
      'peername',
      'role',
      'raft_state',
      'leader',
      'term',
      'commit_index',
      'applied_index',
      'lag',
      'ready',
      'waiting_for',
      'last_error',
      'last_error_at',
      'replication',
      'error',
    ])
    expect(body).toMatchObject({
      peer: self,
      peername: 'alpha',
      role: 'leader',
      raft_state: 'leader',
      leader: self,
      term: 3,
      lag: 0,
      ready: true,
      waiting_for: '',
      last_error: '',
      error: '',
    })
    await app.close()
  })

  it('says what a peer that is not ready waits for', async () => {
    const { app, consensus } = await raftFixture({ role: 'follower' })
    consensus.isReady = false
    consensus.waitingFor = 'a leader: an election is under way'
    const body = (await app.inject({ method: 'GET', url: '/raft/status' })).json() as RaftStatusJson
    expect(body.role).toBe('voter')
    expect(body.raft_state).toBe('follower')
    expect(body.ready).toBe(false)
    expect(body.waiting_for).toBe('waiting for a leader: an election is under way')
    expect(body.lag).toBeNull()
    await app.close()
  })

  it('keeps the last 5xx this peer answered as last_error, with its time', async () => {
    const { app, consensus } = await raftFixture()
    consensus.failNext('NoLeaderError')
    const failed = await app.inject({ method: 'POST', url: `/pins/${CID_V1}` })
    expect(failed.statusCode).toBe(503)
    const body = (await app.inject({ method: 'GET', url: '/raft/status' })).json() as RaftStatusJson
    expect(body.last_error).toBe(
      `POST /pins/${CID_V1}: the cluster has no leader: a majority of its peers may be down or unreachable; check \`pinraft peers ls\` and retry`,
    )
    expect(body.last_error_at).toBe('2030-01-02T03:04:05.000Z')
    await app.close()
  })

  it('with all=true streams every member, an unreachable one with its error, lag from the leader', async () => {
    const { app, self, other, unreachable, asked } = await raftFixture()
    const response = await app.inject({ method: 'GET', url: '/raft/status?all=true' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toContain('application/json')
    const lines = jsonLines(response.body) as RaftStatusJson[]
    expect(lines.map((line) => line.peer)).toEqual([self, other, unreachable].sort())
    expect(asked.sort()).toEqual([other, unreachable].sort())
    const byPeer = new Map(lines.map((line) => [line.peer, line]))
    expect(byPeer.get(self)?.role).toBe('leader')
    // The leader's replication progress says beta lacks nothing, whatever beta applied.
    expect(byPeer.get(other)).toMatchObject({ peername: 'beta', role: 'voter', lag: 0 })
    expect(byPeer.get(unreachable)).toMatchObject({
      role: 'none',
      lag: null,
      error: `could not dial ${unreachable}`,
    })
    await app.close()
  })

  it('refuses an all value that is not true or false, saying what it means', async () => {
    const { app } = await raftFixture()
    const response = await app.inject({ method: 'GET', url: '/raft/status?all=yes' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toEqual({
      code: 400,
      message: 'all must be true or false, got "yes": true asks every member',
    })
    await app.close()
  })
})

describe('withLeaderLag', () => {
  it('uses the leader’s commit index for a member its replication map does not list', () => {
    const leader = raftStatusJson({
      peer: 'a',
      role: 'leader',
      commit_index: 10,
      applied_index: 10,
    })
    const follower = raftStatusJson({ peer: 'b', role: 'voter', commit_index: 9, applied_index: 6 })
    const down = raftStatusJson({ peer: 'c', error: 'unreachable' })
    expect(withLeaderLag([leader, follower, down]).map((entry) => entry.lag)).toEqual([0, 4, null])
  })

  it('leaves lag unknown when no member is the leader', () => {
    const follower = raftStatusJson({ peer: 'b', role: 'voter', applied_index: 6 })
    expect(withLeaderLag([follower])[0]?.lag).toBeNull()
  })
})

describe('parseRaftStatusJson', () => {
  it('keeps known fields, drops the rest, and refuses an answer without a peer', () => {
    const parsed = parseRaftStatusJson({
      peer: 'b',
      role: 'staging',
      term: 4,
      commit_index: -3,
      extra: 'dropped',
      replication: { c: { match: 2, lag: 1 }, d: 'bad' },
    })
    expect(parsed).toEqual(
      raftStatusJson({
        peer: 'b',
        role: 'staging',
        term: 4,
        replication: { c: { match: 2, lag: 1 } },
      }),
    )
    expect(parseRaftStatusJson({ peer: 'b', role: 'emperor' }).role).toBe('none')
    expect(() => parseRaftStatusJson({ role: 'leader' })).toThrow(/must carry its "peer"/)
    expect(() => parseRaftStatusJson([])).toThrow(/must be a JSON object/)
  })
})

describe('localRaftStatus', () => {
  /** A consensus whose status puts this peer `where`, ready or not. */
  function member(where: 'voters' | 'nonVoters' | 'nowhere', ready: boolean): Consensus {
    return {
      peerId: 'self',
      isReady: ready,
      status: () => ({
        role: 'follower',
        leader: 'other',
        term: 9,
        commitIndex: 12,
        appliedIndex: 10,
        voters: where === 'voters' ? ['other', 'self'] : ['other'],
        nonVoters: where === 'nonVoters' ? ['self'] : [],
        replication: {},
        waitingFor: ready ? null : 'to be promoted',
      }),
    } as unknown as Consensus
  }

  it('calls a non-voter still catching up staging, and one that is ready a non-voter', () => {
    expect(localRaftStatus(member('nonVoters', false), 'n', null).role).toBe('staging')
    expect(localRaftStatus(member('nonVoters', true), 'n', null).role).toBe('non-voter')
    expect(localRaftStatus(member('voters', true), 'n', null).role).toBe('voter')
    expect(localRaftStatus(member('nowhere', false), 'n', null).role).toBe('none')
  })

  it('carries the last error and its time', () => {
    const status = localRaftStatus(member('voters', true), 'n', {
      message: 'GET /pins: boom',
      time: '2030-01-01T00:00:00.000Z',
    })
    expect(status).toMatchObject({
      last_error: 'GET /pins: boom',
      last_error_at: '2030-01-01T00:00:00.000Z',
      term: 9,
      commit_index: 12,
      applied_index: 10,
      leader: 'other',
      lag: null,
    })
  })
})
