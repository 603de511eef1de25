/**
 * The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", §5.1–§5.4), one test per rule, on the pure core. PreVote and CheckQuorum are off
 * here: they are extensions (thesis §9.6, §6.2) and change the plain rules on purpose; they have
 * their own tests in raft-features.test.ts.
 */
import { describe, expect, it } from 'vitest'
import type { AppendMessage, Message, VoteMessage, VoteResponseMessage } from '../src/message.ts'
import type { RawNode } from '../src/raft/raw-node.ts'
import type { Entry, NodeId } from '../src/types.ts'
import {
  drain,
  entry,
  logOfTerms,
  newRawNode,
  positions,
  RawCluster,
  storedState,
  type TestOptions,
} from './support/raw-cluster.ts'

const paperRules: TestOptions = {
  preVote: false,
  checkQuorum: false,
  electionTicks: 10,
  heartbeatTicks: 1,
}
const three = ['1', '2', '3']

/** Test cases paired with readable names (vitest prints a 0 field as "+0"). */
function named<T>(cases: readonly T[], name: (testCase: T) => string): Array<[string, T]> {
  return cases.map((testCase) => [name(testCase), testCase])
}

function ids(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => String(i + 1))
}

function node(
  id: NodeId,
  voters: readonly NodeId[],
  parts: { entries?: Entry[]; term?: number; vote?: NodeId | null; commit?: number } = {},
  options: TestOptions = {},
): RawNode {
  return newRawNode(id, storedState({ voters, ...parts }), { ...paperRules, ...options })
}

function others(raw: RawNode): NodeId[] {
  return raw.raft.configuration.voters.filter((id) => id !== raw.id)
}

function appendTo(
  to: NodeId,
  parts: {
    from?: NodeId
    term: number
    index: number
    logTerm: number
    entries?: Entry[]
    commit?: number
  },
): AppendMessage {
  return {
    type: 'append',
    from: parts.from ?? '2',
    to,
    term: parts.term,
    index: parts.index,
    logTerm: parts.logTerm,
    entries: parts.entries ?? [],
    commit: parts.commit ?? 0,
  }
}

function voteRequest(
  from: NodeId,
  to: NodeId,
  term: number,
  index: number,
  logTerm: number,
): VoteMessage {
  return { type: 'vote', from, to, term, index, logTerm, transfer: false }
}

function voteResponse(
  from: NodeId,
  to: NodeId,
  term: number,
  reject: boolean,
): VoteResponseMessage {
  return { type: 'vote-response', from, to, term, reject }
}

function appendAccepted(from: NodeId, to: NodeId, term: number, index: number): Message {
  return {
    type: 'append-response',
    from,
    to,
    term,
    index,
    reject: false,
    rejectHint: 0,
    logTerm: 0,
  }
}

/** Makes `raw` leader of its next term with the votes of every other voter. */
function elect(raw: RawNode): Message[] {
  raw.campaign()
  const messages = drain(raw).messages
  for (const id of others(raw)) {
    raw.step(voteResponse(id, raw.id, raw.raft.term, false))
  }
  messages.push(...drain(raw).messages)
  expect(raw.raft.role).toBe('leader')
  return messages
}

/** Every other voter acknowledges the leader's whole log. */
function acknowledgeAll(raw: RawNode): ReturnType<typeof drain> {
  for (const id of others(raw)) {
    raw.step(appendAccepted(id, raw.id, raw.raft.term, raw.raft.log.lastIndex()))
  }
  return drain(raw)
}

function ofType<T extends Message['type']>(
  messages: readonly Message[],
  type: T,
): Array<Extract<Message, { type: T }>> {
  return messages.filter((m): m is Extract<Message, { type: T }> => m.type === type)
}

describe('Raft paper §5.1: server roles and terms', () => {
  it('a server starts as a follower, in the term it stored, knowing no leader (§5.1)', () => {
    const raw = node('1', three, { term: 3, vote: '2' })
    expect(raw.status()).toMatchObject({ role: 'follower', term: 3, vote: '2', leader: null })
    expect(drain(raw).messages).toEqual([])
  })

  describe('a server that sees a larger term in any message adopts it and becomes a follower (§5.1)', () => {
    const roles = ['follower', 'candidate', 'leader'] as const
    const cases = roles.flatMap((role) => [
      { role, message: 'append' as const, leader: '2' },
      { role, message: 'heartbeat' as const, leader: '2' },
      { role, message: 'vote' as const, leader: null },
      { role, message: 'vote-response' as const, leader: null },
    ])
    it.each(cases)('a $role receiving a $message of a larger term', ({ role, message, leader }) => {
      const raw = node('1', three, { term: 1 })
      if (role === 'candidate') raw.campaign()
      if (role === 'leader') elect(raw)
      drain(raw)
      expect(raw.raft.role).toBe(role)
      const newer = raw.raft.term + 1
      const base = { from: '2', to: '1', term: newer }
      const incoming: Message =
        message === 'append'
          ? appendTo('1', { term: newer, index: 0, logTerm: 0 })
          : message === 'heartbeat'
            ? { ...base, type: 'heartbeat', commit: 0, context: '' }
            : message === 'vote'
              ? voteRequest('2', '1', newer, 0, 0)
              : voteResponse('2', '1', newer, true)
      raw.step(incoming)
      expect(raw.status()).toMatchObject({ role: 'follower', term: newer, leader })
      // The new term is durable before anything this node says in it leaves.
      const ready = raw.ready()
      expect(ready.hardState?.term).toBe(newer)
      raw.advance(ready)
    })
  })

  it('a server ignores a message of a smaller term and changes nothing (§5.1)', () => {
    const raw = node('1', three, { entries: logOfTerms([1, 2]), term: 2, commit: 1 })
    drain(raw)
    raw.step(
      appendTo('1', {
        from: '3',
        term: 1,
        index: 2,
        logTerm: 2,
        entries: [entry(3, 1)],
        commit: 3,
      }),
    )
    raw.step({ type: 'heartbeat', from: '3', to: '1', term: 1, commit: 2, context: '' })
    raw.step(voteRequest('3', '1', 1, 5, 1))
    expect(raw.status()).toMatchObject({
      role: 'follower',
      term: 2,
      vote: null,
      leader: null,
      commitIndex: 1,
    })
    expect(positions(raw.raft.log.entries)).toEqual([
      [1, 1],
      [2, 2],
    ])
    const after = drain(raw)
    expect(after.messages).toEqual([])
    expect(after.committed).toEqual([])
  })
})

describe('Raft paper §5.2: leader election', () => {
  it('a leader sends heartbeats to every other server each heartbeat timeout (§5.2)', () => {
    const raw = node('1', three, { term: 1 }, { heartbeatTicks: 2 })
    elect(raw)
    acknowledgeAll(raw)
    for (let round = 0; round < 3; round++) {
      raw.tick()
      expect(ofType(drain(raw).messages, 'heartbeat')).toEqual([])
      raw.tick()
      const heartbeats = ofType(drain(raw).messages, 'heartbeat')
      expect(heartbeats.map((m) => [m.to, m.term, m.commit])).toEqual([
        ['2', 2, 1],
        ['3', 2, 1],
      ])
    }
  })

  describe('a server that hears from no leader for an election timeout starts an election (§5.2)', () => {
    it.each(['follower', 'candidate'] as const)(
      'a %s increments its term, votes for itself and asks every voter for its vote',
      (role) => {
        const raw = node('1', three, { entries: logOfTerms([1, 1]), term: 1 })
        if (role === 'candidate') raw.campaign()
        drain(raw)
        const term = raw.raft.term
        // The timeout is drawn from [10, 20): before 10 ticks nothing happens, by 20 it has.
        for (let i = 0; i < 9; i++) raw.tick()
        expect(raw.raft.term).toBe(term)
        let ticks = 9
        while (raw.raft.term === term && ticks < 20) {
          raw.tick()
          ticks++
        }
        expect(raw.status()).toMatchObject({ role: 'candidate', term: term + 1, vote: '1' })
        const ready = drain(raw)
        expect(ofType(ready.messages, 'vote')).toEqual([
          voteRequest('1', '2', term + 1, 2, 1),
          voteRequest('1', '3', term + 1, 2, 1),
        ])
      },
    )
  })

  describe('a candidate wins with a majority of votes, loses to a majority of rejections, and otherwise keeps waiting (§5.2)', () => {
    const cases: Array<{ size: number; granted: string[]; rejected: string[]; role: string }> = [
      { size: 1, granted: [], rejected: [], role: 'leader' },
      { size: 3, granted: ['2', '3'], rejected: [], role: 'leader' },
      { size: 3, granted: ['2'], rejected: [], role: 'leader' },
      { size: 5, granted: ['2', '3', '4', '5'], rejected: [], role: 'leader' },
      { size: 5, granted: ['2', '3'], rejected: ['4'], role: 'leader' },
      { size: 3, granted: [], rejected: ['2', '3'], role: 'follower' },
      { size: 5, granted: ['2'], rejected: ['3', '4', '5'], role: 'follower' },
      { size: 5, granted: [], rejected: ['2', '3', '4'], role: 'follower' },
      { size: 3, granted: [], rejected: [], role: 'candidate' },
      { size: 3, granted: [], rejected: ['2'], role: 'candidate' },
      { size: 5, granted: ['2'], rejected: [], role: 'candidate' },
      { size: 5, granted: ['2'], rejected: ['3', '4'], role: 'candidate' },
    ]
    it.each(cases)(
      '$size voters, granted by $granted, rejected by $rejected: $role',
      ({ size, granted, rejected, role }) => {
        const raw = node('1', ids(size), { term: 1 })
        raw.campaign()
        drain(raw)
        for (const id of granted) raw.step(voteResponse(id, '1', 2, false))
        for (const id of rejected) raw.step(voteResponse(id, '1', 2, true))
        expect(raw.raft.role).toBe(role)
        expect(raw.raft.term).toBe(2)
      },
    )
  })

  describe('a server grants at most one vote per term, first come first served (§5.2)', () => {
    const cases: Array<{ votedFor: string | null; candidate: string; reject: boolean }> = [
      { votedFor: null, candidate: '2', reject: false },
      { votedFor: null, candidate: '3', reject: false },
      { votedFor: '2', candidate: '2', reject: false },
      { votedFor: '3', candidate: '3', reject: false },
      { votedFor: '2', candidate: '3', reject: true },
      { votedFor: '3', candidate: '2', reject: true },
    ]
    it.each(cases)(
      'voted for $votedFor, asked by $candidate: rejects $reject',
      ({ votedFor, candidate, reject }) => {
        const raw = node('1', three, { term: 1, vote: votedFor })
        raw.step(voteRequest(candidate, '1', 1, 0, 0))
        const ready = drain(raw)
        expect(ofType(ready.messages, 'vote-response')).toEqual([
          voteResponse('1', candidate, 1, reject),
        ])
        expect(raw.raft.vote).toBe(votedFor ?? candidate)
      },
    )

    it('the first candidate of a new term gets the vote and later ones of that term do not', () => {
      const raw = node('1', three, { term: 1 })
      raw.step(voteRequest('2', '1', 2, 0, 0))
      const first = raw.ready()
      // The vote is part of the state persisted before the response leaves.
      expect(first.hardState).toEqual({ term: 2, vote: '2', commit: 0 })
      expect(first.messages).toEqual([voteResponse('1', '2', 2, false)])
      raw.advance(first)
      raw.step(voteRequest('3', '1', 2, 0, 0))
      raw.step(voteRequest('2', '1', 2, 0, 0))
      expect(drain(raw).messages).toEqual([
        voteResponse('1', '3', 2, true),
        voteResponse('1', '2', 2, false),
      ])
    })
  })

  it.each(['append', 'heartbeat'] as const)(
    'a candidate that receives a %s from a leader of its own term returns to follower (§5.2)',
    (type) => {
      const raw = node('1', three, { term: 1 })
      raw.campaign()
      drain(raw)
      expect(raw.status()).toMatchObject({ role: 'candidate', term: 2 })
      raw.step(
        type === 'append'
          ? appendTo('1', { from: '3', term: 2, index: 0, logTerm: 0 })
          : { type: 'heartbeat', from: '3', to: '1', term: 2, commit: 0, context: '' },
      )
      expect(raw.status()).toMatchObject({ role: 'follower', term: 2, leader: '3', vote: '1' })
    },
  )

  describe('election timeouts are drawn at random from [electionTimeout, 2 × electionTimeout) (§5.2)', () => {
    const electionTicks = 10

    it('a follower times out anywhere in the range, and only there', () => {
      const seen = new Set<number>()
      for (let seed = 0; seed < 200; seed++) {
        const raw = node('1', three, { term: 1 }, { seed, electionTicks })
        let ticks = 0
        while (raw.raft.role === 'follower' && ticks < 100) {
          raw.tick()
          ticks++
        }
        seen.add(ticks)
      }
      expect([...seen].sort((a, b) => a - b)).toEqual(
        Array.from({ length: electionTicks }, (_, i) => electionTicks + i),
      )
    })

    it('a candidate draws a new timeout for every election', () => {
      const raw = node('1', three, { term: 1 }, { seed: 7, electionTicks })
      raw.campaign()
      const seen = new Set<number>()
      for (let election = 0; election < 200; election++) {
        const term = raw.raft.term
        let ticks = 0
        while (raw.raft.term === term && ticks < 100) {
          raw.tick()
          ticks++
        }
        drain(raw)
        seen.add(ticks)
      }
      expect([...seen].sort((a, b) => a - b)).toEqual(
        Array.from({ length: electionTicks }, (_, i) => electionTicks + i),
      )
    })
  })

  describe('randomized timeouts make it rare for several servers to time out together (§5.2)', () => {
    // Five servers drawing from ten slots tie for the earliest slot with probability ~0.23.
    it.each(['follower', 'candidate'] as const)(
      'among five %ss, under 30 percent of rounds split',
      (role) => {
        const rounds = 300
        let conflicts = 0
        for (let round = 0; round < rounds; round++) {
          const nodes = ids(5).map((id, i) =>
            node(id, ids(5), { term: 1 }, { seed: round * 5 + i }),
          )
          if (role === 'candidate') for (const raw of nodes) raw.campaign()
          const startTerm = nodes.map((raw) => raw.raft.term)
          let timedOut = 0
          for (let tick = 0; tick < 100 && timedOut === 0; tick++) {
            for (const raw of nodes) raw.tick()
            timedOut = nodes.filter((raw, i) => raw.raft.term > (startTerm[i] as number)).length
          }
          expect(timedOut).toBeGreaterThan(0)
          if (timedOut > 1) conflicts++
        }
        expect(conflicts / rounds).toBeLessThan(0.3)
      },
    )
  })
})

describe('Raft paper §5.3: log replication', () => {
  it('a leader appends a proposal to its log and sends it to every follower (§5.3)', () => {
    const raw = node('1', three, { term: 1 })
    elect(raw)
    drain(raw)
    acknowledgeAll(raw)
    const data = new TextEncoder().encode('put x')
    const { index, term } = raw.propose([data])
    expect({ index, term }).toEqual({ index: 2, term: 2 })
    const ready = raw.ready()
    const proposed: Entry = { index: 2, term: 2, type: 'normal', data }
    expect(ready.entries).toEqual([proposed])
    expect(ofType(ready.messages, 'append')).toEqual([
      {
        type: 'append',
        from: '1',
        to: '2',
        term: 2,
        index: 1,
        logTerm: 2,
        entries: [proposed],
        commit: 1,
      },
      {
        type: 'append',
        from: '1',
        to: '3',
        term: 2,
        index: 1,
        logTerm: 2,
        entries: [proposed],
        commit: 1,
      },
    ])
    raw.advance(ready)
    expect(raw.raft.log.committed).toBe(1)
  })

  it('a leader commits an entry once a majority holds it, applies it and tells the followers (§5.3)', () => {
    const raw = node('1', three, { term: 1 })
    elect(raw)
    acknowledgeAll(raw)
    const { index } = raw.propose([new Uint8Array([1])])
    drain(raw)
    expect(raw.raft.log.committed).toBe(index - 1)
    raw.step(appendAccepted('2', '1', 2, index))
    expect(raw.raft.log.committed).toBe(index)
    const ready = drain(raw)
    expect(ready.committed.map((e) => e.index)).toEqual([index])
    const appends = ofType(ready.messages, 'append')
    expect(appends.map((m) => [m.to, m.commit])).toEqual([
      ['2', index],
      ['3', index],
    ])
  })

  describe('a leader counts an entry committed only when a majority of voters, itself included, holds it (§5.3)', () => {
    const cases: Array<{ size: number; acknowledgedBy: string[]; committed: boolean }> = [
      { size: 1, acknowledgedBy: [], committed: true },
      { size: 3, acknowledgedBy: [], committed: false },
      { size: 3, acknowledgedBy: ['2'], committed: true },
      { size: 3, acknowledgedBy: ['2', '3'], committed: true },
      { size: 5, acknowledgedBy: [], committed: false },
      { size: 5, acknowledgedBy: ['2'], committed: false },
      { size: 5, acknowledgedBy: ['2', '3'], committed: true },
      { size: 5, acknowledgedBy: ['2', '3', '4', '5'], committed: true },
    ]
    it.each(cases)(
      '$size voters, acknowledged by $acknowledgedBy: committed $committed',
      ({ size, acknowledgedBy, committed }) => {
        const raw = node('1', ids(size), { term: 1 })
        elect(raw)
        acknowledgeAll(raw)
        const { index } = raw.propose([new Uint8Array([1])])
        drain(raw)
        for (const id of acknowledgedBy) raw.step(appendAccepted(id, '1', 2, index))
        drain(raw)
        expect(raw.raft.log.committed >= index).toBe(committed)
      },
    )
  })

  describe("committing an entry commits every entry before it, earlier leaders' entries included (§5.3)", () => {
    const earlierLogs: number[][] = [[], [2], [1, 2], [1], [1, 1, 2, 2]]
    it.each(earlierLogs)('a log of terms %j before this term', (...terms) => {
      const previous = logOfTerms(terms)
      const raw = node('1', three, { entries: previous, term: 2 })
      elect(raw)
      const { index } = raw.propose([new Uint8Array([9])])
      drain(raw)
      const applied = acknowledgeAll(raw).committed
      expect(raw.raft.log.committed).toBe(index)
      expect(positions(applied)).toEqual([
        ...positions(previous),
        [previous.length + 1, 3],
        [previous.length + 2, 3],
      ])
      expect(applied.map((e) => e.type)).toEqual([
        ...previous.map(() => 'normal'),
        'noop',
        'normal',
      ])
    })
  })

  describe('a follower commits, in log order, what the leader says is committed, up to what it holds (§5.3)', () => {
    const cases = [
      { held: [], index: 0, entries: [entry(1, 1)], commit: 1, committed: 1 },
      { held: [], index: 0, entries: [entry(1, 1), entry(2, 1)], commit: 2, committed: 2 },
      { held: [], index: 0, entries: [entry(1, 1), entry(2, 1)], commit: 1, committed: 1 },
      // A commit index past the entries of this append covers only those the follower holds.
      { held: [], index: 0, entries: [entry(1, 1)], commit: 5, committed: 1 },
      // Entries after the append's last one may not be the leader's: they stay uncommitted.
      { held: [1, 1, 1], index: 1, entries: [], commit: 3, committed: 1 },
      { held: [1, 1, 1], index: 1, entries: [entry(2, 1)], commit: 3, committed: 2 },
    ]
    it.each(
      named(
        cases,
        (c) =>
          `holding ${c.held.length} entries, an append of ${c.entries.length} after index ${c.index} with commit ${c.commit}`,
      ),
    )('%s', (_, { held, index, entries, commit, committed }) => {
      const raw = node('2', three, { entries: logOfTerms(held), term: 1 })
      raw.step(
        appendTo('2', { from: '1', term: 1, index, logTerm: index === 0 ? 0 : 1, entries, commit }),
      )
      const ready = drain(raw)
      expect(raw.raft.log.committed).toBe(committed)
      expect(positions(ready.committed)).toEqual(positions(logOfTerms(Array(committed).fill(1))))
      expect(ofType(ready.messages, 'append-response')).toMatchObject([
        { to: '1', index: index + entries.length, reject: false },
      ])
    })
  })

  describe('a follower rejects an append whose previous entry it does not hold with the same term (§5.3)', () => {
    // Follower log: (1, term 1), (2, term 2); index 1 committed.
    const cases = [
      { index: 0, logTerm: 0, reject: false, response: 1, hint: 0 },
      { index: 1, logTerm: 1, reject: false, response: 1, hint: 0 },
      { index: 2, logTerm: 2, reject: false, response: 2, hint: 0 },
      { index: 2, logTerm: 1, reject: true, response: 2, hint: 1 },
      { index: 3, logTerm: 3, reject: true, response: 3, hint: 2 },
    ]
    it.each(
      named(cases, (c) => `previous entry (${c.index}, term ${c.logTerm}): rejected ${c.reject}`),
    )('%s', (_, { index, logTerm, reject, response, hint }) => {
      const raw = node('2', three, { entries: logOfTerms([1, 2]), term: 2, commit: 1 })
      drain(raw)
      raw.step(appendTo('2', { from: '1', term: 2, index, logTerm, commit: 1 }))
      const responses = ofType(drain(raw).messages, 'append-response')
      expect(responses).toHaveLength(1)
      expect(responses[0]).toMatchObject({
        to: '1',
        term: 2,
        index: response,
        reject,
        rejectHint: hint,
      })
      expect(positions(raw.raft.log.entries)).toEqual([
        [1, 1],
        [2, 2],
      ])
    })
  })

  describe('a follower deletes entries that conflict with the leader and appends the new ones (§5.3)', () => {
    // Follower log: (1, term 1), (2, term 2), nothing committed. The leader is of term 4.
    const cases = [
      {
        index: 2,
        logTerm: 2,
        entries: [entry(3, 3)],
        log: [entry(1, 1), entry(2, 2), entry(3, 3)],
        unstable: [entry(3, 3)],
      },
      {
        index: 1,
        logTerm: 1,
        entries: [entry(2, 3), entry(3, 4)],
        log: [entry(1, 1), entry(2, 3), entry(3, 4)],
        unstable: [entry(2, 3), entry(3, 4)],
      },
      {
        index: 0,
        logTerm: 0,
        entries: [entry(1, 1)],
        log: [entry(1, 1), entry(2, 2)],
        unstable: [],
      },
      { index: 0, logTerm: 0, entries: [entry(1, 3)], log: [entry(1, 3)], unstable: [entry(1, 3)] },
    ]
    it.each(
      named(
        cases,
        (c) =>
          `an append after (${c.index}, term ${c.logTerm}) of entries of terms ${c.entries.map((e) => e.term).join(', ')}`,
      ),
    )('%s', (_, { index, logTerm, entries, log, unstable }) => {
      const raw = node('2', three, { entries: logOfTerms([1, 2]), term: 2 })
      drain(raw)
      raw.step(appendTo('2', { from: '1', term: 4, index, logTerm, entries }))
      expect(raw.raft.log.entries).toEqual(log)
      const ready = raw.ready()
      // Only what changed is persisted, replacing the stored entries from its first index on.
      expect(ready.entries).toEqual(unstable)
      raw.advance(ready)
    })
  })

  describe("a leader brings any follower's log in line with its own (§5.3, the paper's Figure 7)", () => {
    // Terms of the leader's log, and of the six follower logs of Figure 7. The leader is of term 8.
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    const followers: Record<string, number[]> = {
      'a: missing an entry': [1, 1, 1, 4, 4, 5, 5, 6, 6],
      'b: missing many entries': [1, 1, 1, 4],
      'c: one extra uncommitted entry': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      'd: extra entries of a later term': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      'e: missing entries and extra ones of an old term': [1, 1, 1, 4, 4, 4, 4],
      'f: many extra entries of terms 2 and 3': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    }
    it.each(Object.entries(followers))('follower %s', (_, terms) => {
      const cluster = new RawCluster()
      const leader = cluster.add(
        node('1', three, { entries: logOfTerms(leaderTerms), term: 8, commit: leaderTerms.length }),
      )
      const follower = cluster.add(node('2', three, { entries: logOfTerms(terms), term: 7 }))
      // Node 3 only exists to grant the vote: a follower like d would refuse it.
      leader.campaign()
      cluster.flush('1')
      leader.step(voteResponse('3', '1', 9, false))
      cluster.stabilize()
      expect(leader.status()).toMatchObject({ role: 'leader', term: 9 })
      expect(follower.raft.log.entries).toEqual(leader.raft.log.entries)
      expect(positions(follower.raft.log.entries)).toEqual([
        ...positions(logOfTerms(leaderTerms)),
        [11, 9],
      ])
      expect(follower.raft.log.committed).toBe(11)
    })
  })
})

describe('Raft paper §5.4: safety', () => {
  describe("a vote request carries the index and term of the candidate's last entry (§5.4.1)", () => {
    it.each([[[1]], [[1, 2]], [[1, 1, 3]]])('a candidate whose log has terms %j', (terms) => {
      const last = terms.length
      const lastTerm = terms[last - 1] as number
      const raw = node('1', three, { entries: logOfTerms(terms), term: lastTerm })
      for (let i = 0; i < 20 && raw.raft.role === 'follower'; i++) raw.tick()
      expect(ofType(drain(raw).messages, 'vote')).toEqual([
        voteRequest('1', '2', lastTerm + 1, last, lastTerm),
        voteRequest('1', '3', lastTerm + 1, last, lastTerm),
      ])
    })
  })

  describe('a server denies its vote to a candidate whose log is less up-to-date than its own (§5.4.1)', () => {
    // The voter's log, the candidate's last entry, and whether the vote is denied.
    const cases = [
      // Same last term: the longer log wins.
      { voter: [1], index: 1, logTerm: 1, reject: false },
      { voter: [1], index: 2, logTerm: 1, reject: false },
      { voter: [1, 1], index: 1, logTerm: 1, reject: true },
      // The candidate's last term is later: it wins whatever the length.
      { voter: [1], index: 1, logTerm: 2, reject: false },
      { voter: [1], index: 2, logTerm: 2, reject: false },
      { voter: [1, 1], index: 1, logTerm: 2, reject: false },
      // The voter's last term is later: the candidate loses whatever the length.
      { voter: [2], index: 1, logTerm: 1, reject: true },
      { voter: [2], index: 2, logTerm: 1, reject: true },
      { voter: [1, 2], index: 5, logTerm: 1, reject: true },
    ]
    it.each(cases)(
      'voter log $voter, candidate last entry ($index, term $logTerm): denied $reject',
      ({ voter, index, logTerm, reject }) => {
        const raw = node('1', three, { entries: logOfTerms(voter), term: 2 })
        raw.step(voteRequest('2', '1', 3, index, logTerm))
        expect(ofType(drain(raw).messages, 'vote-response')).toMatchObject([{ to: '2', reject }])
        expect(raw.raft.vote).toBe(reject ? null : '2')
      },
    )
  })

  describe('a leader commits entries of its current term only by counting replicas (§5.4.2, Figure 8)', () => {
    // The leader (term 3) has (1, term 1), (2, term 2) from earlier terms and its no-op at 3.
    const cases = [
      { acknowledged: 1, committed: 0 },
      { acknowledged: 2, committed: 0 },
      { acknowledged: 3, committed: 3 },
    ]
    it.each(
      named(cases, (c) => `a majority holds index ${c.acknowledged}: commit index ${c.committed}`),
    )('%s', (_, { acknowledged, committed }) => {
      const raw = node('1', three, { entries: logOfTerms([1, 2]), term: 2 })
      elect(raw)
      drain(raw)
      expect(raw.status()).toMatchObject({ term: 3, lastIndex: 3 })
      raw.step(appendAccepted('2', '1', 3, acknowledged))
      drain(raw)
      expect(raw.raft.log.committed).toBe(committed)
    })

    it("an old term's entry held by a majority is not committed, and can still be overwritten by a later leader", () => {
      // Figure 8 (c)-(d): S1, S2 and S3 hold (2, term 2), a majority of five, when S1 leads term
      // 4; S1 must not count that as committed, for S5 (whose log ends in term 3) can still be
      // elected and overwrite it.
      const five = ids(5)
      const cluster = new RawCluster()
      const s1 = cluster.add(node('1', five, { entries: logOfTerms([1, 2]), term: 3 }))
      const s2 = cluster.add(node('2', five, { entries: logOfTerms([1, 2]), term: 3 }))
      const s3 = cluster.add(node('3', five, { entries: logOfTerms([1, 2]), term: 3 }))
      cluster.add(node('4', five, { entries: logOfTerms([1]), term: 3 }))
      const s5 = cluster.add(node('5', five, { entries: logOfTerms([1, 3]), term: 3 }))
      // S1 wins term 4 with the votes of S2, S3 and S4; its appends (and its no-op) get lost.
      cluster.drop = (message) =>
        message.to === '5' ||
        message.from === '5' ||
        message.type === 'append' ||
        message.type === 'append-response'
      cluster.elect('1')
      expect(s1.status()).toMatchObject({ role: 'leader', term: 4 })
      s1.step(appendAccepted('2', '1', 4, 2))
      s1.step(appendAccepted('3', '1', 4, 2))
      drain(s1)
      expect(s1.raft.log.committed).toBe(0)
      // S5 loses term 4 (S2, S3 and S4 voted for S1 in it), then wins term 5 with their votes: its
      // last term 3 beats their 2 and 1.
      cluster.drop = (message) => message.to === '1' || message.from === '1'
      cluster.elect('5')
      expect(s5.status()).toMatchObject({ role: 'follower', term: 4 })
      cluster.elect('5')
      expect(s5.status()).toMatchObject({ role: 'leader', term: 5 })
      for (const follower of [s2, s3]) {
        expect(positions(follower.raft.log.entries)).toEqual([
          [1, 1],
          [2, 3],
          [3, 5],
        ])
      }
      expect(s5.raft.log.committed).toBe(3)
    })
  })
})
