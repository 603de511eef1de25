import { makeConfiguration } from '@pinraft/raft-core'
import { describe, expect, it } from 'vitest'
import { admitJoin } from '../src/membership/join-admission.ts'
import { NonVoterReaper } from '../src/membership/non-voter-reaper.ts'
import { RateLimiter } from '../src/status/rate-limiter.ts'

const voters = makeConfiguration({ voters: ['a', 'b', 'c'] })
const none = new Set<string>()

function nameOf(run: () => unknown): string | undefined {
  try {
    run()
    return undefined
  } catch (error) {
    return (error as Error).name
  }
}

describe('join admission', () => {
  it('adds a new peer, ignores a member, and re-adds a member that lost its state', () => {
    const request = { configuration: voters, joining: none, allowList: [] }
    expect(admitJoin({ ...request, peerId: 'd', freshState: false })).toEqual({ kind: 'add' })
    expect(admitJoin({ ...request, peerId: 'b', freshState: false })).toEqual({ kind: 'member' })
    expect(admitJoin({ ...request, peerId: 'b', freshState: true })).toEqual({ kind: 'rejoin' })
  })

  it('admits one join at a time, counting staging members and additions in flight', () => {
    const staging = makeConfiguration({ voters: ['a', 'b'], staging: ['d'] })
    expect(
      nameOf(() =>
        admitJoin({
          peerId: 'e',
          freshState: false,
          configuration: staging,
          joining: none,
          allowList: [],
        }),
      ),
    ).toBe('JoinInProgressError')
    expect(
      nameOf(() =>
        admitJoin({
          peerId: 'e',
          freshState: false,
          configuration: voters,
          joining: new Set(['d']),
          allowList: [],
        }),
      ),
    ).toBe('JoinInProgressError')
    // A rejoin waits its turn too; the joining peer itself may ask again.
    expect(
      nameOf(() =>
        admitJoin({
          peerId: 'b',
          freshState: true,
          configuration: staging,
          joining: none,
          allowList: [],
        }),
      ),
    ).toBe('JoinInProgressError')
    expect(
      admitJoin({
        peerId: 'd',
        freshState: true,
        configuration: staging,
        joining: none,
        allowList: [],
      }),
    ).toEqual({ kind: 'rejoin' })
  })

  it('lets only peers of a non-empty allow-list join, and members back in', () => {
    const request = { configuration: voters, joining: none, allowList: ['d'] }
    expect(admitJoin({ ...request, peerId: 'd', freshState: false })).toEqual({ kind: 'add' })
    expect(nameOf(() => admitJoin({ ...request, peerId: 'e', freshState: false }))).toBe(
      'JoinNotAllowedError',
    )
    expect(admitJoin({ ...request, peerId: 'c', freshState: true })).toEqual({ kind: 'rejoin' })
  })
})

describe('the leader bound on members that do not vote', () => {
  const reaper = () => new NonVoterReaper({ stagingTimeout: 60_000, nonVoterTimeout: 10_000 })
  const configuration = makeConfiguration({ voters: ['a'], staging: ['s'], nonVoters: ['n'] })

  it('removes a member not heard from for non_voter_timeout, counting from when it was seen', () => {
    const bound = reaper()
    const heard = new Map<string, number>()
    expect(bound.check(configuration, 1_000, (id) => heard.get(id))).toEqual([])
    heard.set('s', 8_000)
    // `n` was never heard from: 10 s after the leader first saw it, it goes.
    const removed = bound.check(configuration, 11_000, (id) => heard.get(id))
    expect(removed.map((removal) => removal.peerId)).toEqual(['n'])
    expect(removed[0]?.reason).toMatch(/not heard from for 10s .*non_voter_timeout/)
    // `s` was heard at 8 s: it goes at 18 s, not before.
    expect(bound.check(configuration, 17_999, (id) => heard.get(id)).map((r) => r.peerId)).toEqual([
      'n',
    ])
    expect(bound.check(configuration, 18_000, (id) => heard.get(id)).map((r) => r.peerId)).toEqual([
      'n',
      's',
    ])
  })

  it('removes a staging member still not caught up after staging_timeout, even if it answers', () => {
    const bound = reaper()
    bound.check(configuration, 0, () => undefined)
    const alive = (now: number) => () => now
    expect(bound.check(configuration, 59_999, alive(59_999))).toEqual([])
    const removed = bound.check(configuration, 60_000, alive(60_000))
    // A non-voter that answers stays: only staging members must catch up.
    expect(removed.map((removal) => removal.peerId)).toEqual(['s'])
    expect(removed[0]?.reason).toMatch(/not caught up 1m0s after it was added.*staging_timeout/)
  })

  it('starts counting again for a new leader and for a member that left and came back', () => {
    const bound = reaper()
    bound.check(configuration, 0, () => undefined)
    bound.reset()
    expect(bound.check(configuration, 10_000, () => undefined)).toEqual([])
    bound.check(makeConfiguration({ voters: ['a', 's', 'n'] }), 15_000, () => undefined)
    expect(bound.check(configuration, 20_000, () => undefined)).toEqual([])
  })
})

describe('rate-limited log lines', () => {
  it('lets one line per key and interval through and counts those held back', () => {
    let now = 0
    const limiter = new RateLimiter(1000, () => now)
    expect(limiter.allow('peer')).toBe(0)
    expect(limiter.allow('peer')).toBeNull()
    expect(limiter.allow('other')).toBe(0)
    now = 999
    expect(limiter.allow('peer')).toBeNull()
    now = 1000
    expect(limiter.allow('peer')).toBe(2)
  })
})
