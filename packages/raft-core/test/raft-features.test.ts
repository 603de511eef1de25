/**
 * What raft-core does beyond the paper's §5, on the pure core: PreVote and CheckQuorum (thesis
 * §9.6, §6.2), fast log backtracking, flow control, batching, read index (thesis §6.4),
 * leadership transfer (thesis §3.10), single-server membership changes (thesis §4), snapshots
 * (paper §7) and rebuilding the log from storage after a restart.
 */
import { describe, expect, it } from 'vitest'
import {
  decodeConfigurationChange,
  encodeConfigurationChange,
} from '../src/configuration/configuration.ts'
import type { Message } from '../src/message.ts'
import { RaftLog } from '../src/raft/raft-log.ts'
import type { ConfigurationChange, Entry, NodeId, SnapshotMetadata } from '../src/types.ts'
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

const three = ['1', '2', '3']
const electionTicks = 10
const data = (text: string) => new TextEncoder().encode(text)

function errorName(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    return (error as Error).name
  }
  return 'no error'
}

/** A bootstrapped cluster in which node 1 leads and everyone has applied its no-op. */
function clusterLedBy1(voters: readonly NodeId[] = three, options: TestOptions = {}): RawCluster {
  const cluster = RawCluster.bootstrap(voters, options)
  cluster.elect('1')
  expect(cluster.node('1').raft.role).toBe('leader')
  return cluster
}

function terms(cluster: RawCluster): Record<NodeId, number> {
  return Object.fromEntries([...cluster.nodes].map(([id, raw]) => [id, raw.raft.term]))
}

function sentSince(
  cluster: RawCluster,
  mark: number,
  predicate: (message: Message) => boolean,
): Message[] {
  return cluster.sent.slice(mark).filter(predicate)
}

const isAppendTo = (to: NodeId) => (message: Message) =>
  message.type === 'append' && message.to === to

describe('PreVote (thesis §9.6)', () => {
  function partitionedFollowerRejoins(preVote: boolean): RawCluster {
    const cluster = clusterLedBy1(three, { preVote, checkQuorum: false })
    cluster.isolate('3')
    cluster.node('1').propose([data('a'), data('b')])
    cluster.stabilize()
    // Cut off, node 3 times out again and again.
    cluster.tick('3', 10 * electionTicks)
    cluster.heal()
    // Back on the network, it campaigns once more before hearing from the leader.
    const mark = cluster.sent.length
    const campaigned = () =>
      sentSince(
        cluster,
        mark,
        (m) => m.from === '3' && (m.type === 'vote' || m.type === 'pre-vote'),
      )
    for (let i = 0; i < 2 * electionTicks && campaigned().length === 0; i++) cluster.tick('3')
    expect(campaigned()).toHaveLength(2)
    cluster.stabilize()
    return cluster
  }

  it('a node rejoining after a partition neither raises the term nor deposes the leader', () => {
    const cluster = partitionedFollowerRejoins(true)
    expect(cluster.node('1').raft.role).toBe('leader')
    expect(terms(cluster)).toEqual({ 1: 2, 2: 2, 3: 2 })
    expect(cluster.sentWhere((m) => m.type === 'vote')).toHaveLength(2) // only node 1's own election
    // The next heartbeat brings it back into the fold.
    cluster.tickAll(2)
    expect(cluster.node('3').raft.log.entries).toEqual(cluster.node('1').raft.log.entries)
    expect(cluster.node('3').raft.leader).toBe('1')
  })

  it('without PreVote the same rejoin raises the term and deposes the leader (what PreVote prevents)', () => {
    const cluster = partitionedFollowerRejoins(false)
    expect(cluster.node('1').raft.role).toBe('follower')
    expect(cluster.node('1').raft.term).toBeGreaterThan(2)
  })

  it('a pre-vote round changes neither the term nor the vote of the pre-candidate or of its voters', () => {
    const cluster = RawCluster.bootstrap(three)
    const [one, two] = [cluster.node('1'), cluster.node('2')]
    cluster.drop = () => true
    one.campaign()
    cluster.flush('1')
    expect(one.status()).toMatchObject({ role: 'pre-candidate', term: 1, vote: null })
    const requests = cluster.sentWhere((m) => m.type === 'pre-vote')
    expect(requests.map((m) => [m.to, m.term])).toEqual([
      ['2', 2],
      ['3', 2],
    ])
    two.step(requests[0] as Message)
    const ready = two.ready()
    expect(ready.hardState).toBeUndefined()
    expect(ready.messages).toEqual([
      { type: 'pre-vote-response', from: '2', to: '1', term: 2, reject: false },
    ])
    two.advance(ready)
    expect(two.status()).toMatchObject({ role: 'follower', term: 1, vote: null })
    // With the pre-vote won, the real election takes the term.
    one.step(ready.messages[0] as Message)
    expect(one.status()).toMatchObject({ role: 'candidate', term: 2, vote: '1' })
  })
})

describe('CheckQuorum (thesis §6.2)', () => {
  it('a leader that hears from no quorum within an election timeout steps down', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    cluster.isolate('1')
    cluster.tick('1', electionTicks)
    // It heard from both followers during the first timeout: it still leads.
    expect(leader.raft.role).toBe('leader')
    cluster.tick('1', electionTicks)
    expect(leader.status()).toMatchObject({ role: 'follower', term: 2, leader: null })
  })

  it('a leader that keeps hearing from a quorum stays leader', () => {
    const cluster = clusterLedBy1()
    cluster.isolate('3')
    for (let i = 0; i < 5 * electionTicks; i++) {
      cluster.tick('1')
      cluster.tick('2')
      cluster.stabilize()
    }
    expect(cluster.node('1').status()).toMatchObject({ role: 'leader', term: 2 })
  })

  describe('a follower that heard from its leader within an election timeout ignores vote requests, unless they come from a leadership transfer', () => {
    const cases = [
      { type: 'pre-vote' as const, transfer: false, answered: false },
      { type: 'vote' as const, transfer: false, answered: false },
      { type: 'vote' as const, transfer: true, answered: true },
    ]
    it.each(cases)(
      'a $type request with transfer $transfer: answered $answered',
      ({ type, transfer, answered }) => {
        const cluster = clusterLedBy1()
        const follower = cluster.node('2')
        const last = follower.raft.log.lastIndex()
        follower.step({ type, from: '3', to: '2', term: 3, index: last, logTerm: 2, transfer })
        const ready = drain(follower)
        expect(ready.messages.length > 0).toBe(answered)
        expect(follower.raft.term).toBe(answered ? 3 : 2)
        if (answered)
          expect(ready.messages).toEqual([
            { type: 'vote-response', from: '2', to: '3', term: 3, reject: false },
          ])
      },
    )
  })
})

describe('losing the connection to the leader', () => {
  it('followers told their leader is unreachable elect a new one within half an election timeout, without splitting the vote', () => {
    // Without the report, a follower may wait up to 2 × electionTicks, and a lease still held
    // by the other follower can make its first attempt fail.
    for (let seed = 1; seed <= 20; seed++) {
      const cluster = clusterLedBy1(three, { seed })
      cluster.isolate('1')
      cluster.node('2').reportUnreachable('1')
      cluster.node('3').reportUnreachable('1')
      let ticks = 0
      const led = () =>
        cluster.node('2').raft.role === 'leader' || cluster.node('3').raft.role === 'leader'
      while (!led() && ticks < 2 * electionTicks) {
        cluster.tick('2')
        cluster.tick('3')
        cluster.stabilize()
        ticks++
      }
      expect(led()).toBe(true)
      expect(ticks).toBeLessThanOrEqual(1 + electionTicks / 2)
    }
  })

  it('a follower still connected to a live leader refuses the pre-vote of one that lost it', () => {
    const cluster = clusterLedBy1()
    cluster.drop = (message) =>
      (message.from === '1' && message.to === '2') || (message.from === '2' && message.to === '1')
    cluster.node('2').reportUnreachable('1')
    for (let i = 0; i < electionTicks; i++) {
      cluster.tick('1')
      cluster.tick('2')
      cluster.tick('3')
      cluster.stabilize()
    }
    expect(cluster.node('1').raft.role).toBe('leader')
    expect(cluster.node('1').raft.term).toBe(2)
  })

  it('a report about a peer that is not the leader changes nothing for a follower', () => {
    const cluster = clusterLedBy1()
    const follower = cluster.node('2')
    const before = (follower.raft as unknown as { randomizedElectionTimeout: number })
      .randomizedElectionTimeout
    follower.reportUnreachable('3')
    expect(
      (follower.raft as unknown as { randomizedElectionTimeout: number }).randomizedElectionTimeout,
    ).toBe(before)
  })
})

describe('fast log backtracking (thesis §5.3)', () => {
  // The leader's and the follower's logs agree on five entries of term 1, then diverge.
  const cases = [
    {
      name: "a long tail of an earlier term than the leader's",
      leader: { tail: [...Array(55)].map(() => 3), term: 3 },
      follower: { tail: [...Array(35)].map(() => 2), term: 2 },
    },
    {
      name: "a long tail of a later term than the leader's",
      leader: { tail: [...Array(45)].map(() => 2), term: 4 },
      follower: { tail: [...Array(45)].map(() => 4), term: 4 },
    },
    {
      name: 'a log far behind the leader',
      leader: { tail: [...Array(60)].map(() => 3), term: 3 },
      follower: { tail: [], term: 3 },
    },
  ]
  it.each(cases.map((c) => [c.name, c] as const))(
    'a follower with %s is repaired after at most two rejections',
    (_, { leader, follower }) => {
      const options: TestOptions = { preVote: false, checkQuorum: false }
      const prefix = [1, 1, 1, 1, 1]
      const cluster = new RawCluster()
      const one = cluster.add(
        newRawNode(
          '1',
          storedState({
            voters: three,
            entries: logOfTerms([...prefix, ...leader.tail]),
            term: leader.term,
          }),
          options,
        ),
      )
      const two = cluster.add(
        newRawNode(
          '2',
          storedState({
            voters: three,
            entries: logOfTerms([...prefix, ...follower.tail]),
            term: follower.term,
          }),
          options,
        ),
      )
      // Node 3 exists only to vote for node 1.
      one.campaign()
      cluster.flush('1')
      one.step({ type: 'vote-response', from: '3', to: '1', term: one.raft.term, reject: false })
      cluster.stabilize()
      expect(one.raft.role).toBe('leader')
      expect(two.raft.log.entries).toEqual(one.raft.log.entries)
      const rejections = cluster.sentWhere(
        (m) => m.type === 'append-response' && m.from === '2' && m.reject,
      )
      // Stepping back one entry per rejection would take dozens of round trips.
      expect(rejections.length).toBeLessThanOrEqual(2)
      expect(cluster.sentWhere(isAppendTo('2')).length).toBeLessThanOrEqual(4)
    },
  )
})

describe('flow control', () => {
  it('in replicate state, at most maxInflightMessages appends are unacknowledged at a time', () => {
    const cluster = clusterLedBy1(three, { maxInflightMessages: 2 })
    const leader = cluster.node('1')
    expect(leader.status().progress['2']?.state).toBe('replicate')
    cluster.drop = () => true
    const mark = cluster.sent.length
    const first = leader.propose([data('p1')]).index
    for (let i = 2; i <= 5; i++) {
      leader.propose([data(`p${i}`)])
      cluster.flush('1')
    }
    expect(sentSince(cluster, mark, isAppendTo('2'))).toHaveLength(2)
    expect(leader.status().progress['2']).toMatchObject({ inflight: 2, paused: true })
    // One acknowledgement frees one slot: the rest goes out in one append.
    const beforeAck = cluster.sent.length
    leader.step({
      type: 'append-response',
      from: '2',
      to: '1',
      term: 2,
      index: first,
      reject: false,
      rejectHint: 0,
      logTerm: 0,
    })
    cluster.flush('1')
    const resumed = sentSince(cluster, beforeAck, isAppendTo('2'))
    expect(resumed).toHaveLength(1)
    expect(resumed[0]?.type === 'append' && resumed[0].entries.map((e) => e.index)).toEqual([
      first + 2,
      first + 3,
      first + 4,
    ])
    expect(sentSince(cluster, beforeAck, isAppendTo('3'))).toEqual([])
  })

  it('in probe state, one append goes out per heartbeat response', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    leader.reportUnreachable('2')
    expect(leader.status().progress['2']?.state).toBe('probe')
    cluster.drop = () => true
    const mark = cluster.sent.length
    for (let i = 1; i <= 3; i++) {
      leader.propose([data(`p${i}`)])
      cluster.flush('1')
    }
    expect(sentSince(cluster, mark, isAppendTo('2'))).toHaveLength(1)
    expect(sentSince(cluster, mark, isAppendTo('3'))).toHaveLength(3)
    cluster.tick('1')
    expect(sentSince(cluster, mark, (m) => m.type === 'heartbeat' && m.to === '2')).toHaveLength(1)
    expect(sentSince(cluster, mark, isAppendTo('2'))).toHaveLength(1)
    leader.step({ type: 'heartbeat-response', from: '2', to: '1', term: 2, context: '' })
    cluster.flush('1')
    expect(sentSince(cluster, mark, isAppendTo('2'))).toHaveLength(2)
  })
})

it('several commands proposed together travel in one append per follower', () => {
  const cluster = clusterLedBy1()
  const leader = cluster.node('1')
  cluster.drop = () => true
  const mark = cluster.sent.length
  const { index, term } = leader.propose([data('a'), data('b'), data('c')])
  cluster.flush('1')
  for (const id of ['2', '3']) {
    const appends = sentSince(cluster, mark, isAppendTo(id))
    expect(appends).toHaveLength(1)
    const append = appends[0]
    expect(append?.type === 'append' && positions(append.entries)).toEqual([
      [index, term],
      [index + 1, term],
      [index + 2, term],
    ])
  }
})

describe('read index (thesis §6.4)', () => {
  it('a leader answers a read only once a quorum has acknowledged a heartbeat carrying it', () => {
    const cluster = clusterLedBy1(['1', '2', '3', '4', '5'])
    const leader = cluster.node('1')
    const committed = leader.raft.log.committed
    cluster.drop = () => true
    const mark = cluster.sent.length
    leader.readIndex('read-1')
    cluster.flush('1')
    expect(
      sentSince(cluster, mark, (m) => m.type === 'heartbeat' && m.context === 'read-1'),
    ).toHaveLength(4)
    const acknowledge = (from: NodeId, context: string) => {
      leader.step({ type: 'heartbeat-response', from, to: '1', term: 2, context })
      cluster.flush('1')
    }
    acknowledge('2', '')
    acknowledge('2', 'read-1')
    expect(cluster.readStates.get('1')).toEqual([])
    acknowledge('3', 'read-1')
    expect(cluster.readStates.get('1')).toEqual([{ index: committed, context: 'read-1' }])
  })

  it('a new leader holds reads until an entry of its own term is committed', () => {
    const cluster = RawCluster.bootstrap(three)
    cluster.drop = (m) => m.type === 'append' || m.type === 'append-response'
    cluster.elect('1')
    const leader = cluster.node('1')
    expect(leader.status()).toMatchObject({ role: 'leader', commitIndex: 1, lastIndex: 2 })
    leader.readIndex('early')
    cluster.flush('1')
    cluster.stabilize()
    expect(cluster.sentWhere((m) => m.type === 'heartbeat' && m.context === 'early')).toEqual([])
    expect(cluster.readStates.get('1')).toEqual([])
    cluster.heal()
    cluster.tickAll(1)
    // The no-op (index 2) is committed first: the read is served at it, not at the old commit.
    expect(cluster.readStates.get('1')).toEqual([{ index: 2, context: 'early' }])
  })

  it("a follower's read is forwarded to the leader and answered with the leader's commit index", () => {
    const cluster = clusterLedBy1()
    cluster.node('1').propose([data('x')])
    cluster.stabilize()
    cluster.node('2').readIndex('from-2')
    cluster.flush('2')
    cluster.stabilize()
    expect(cluster.sentWhere((m) => m.type === 'read-index')).toMatchObject([
      { from: '2', to: '1', context: 'from-2' },
    ])
    expect(cluster.readStates.get('2')).toEqual([
      { index: cluster.node('1').raft.log.committed, context: 'from-2' },
    ])
    expect(cluster.readStates.get('1')).toEqual([])
  })
})

describe('leadership transfer (thesis §3.10)', () => {
  it('a caught-up target is sent TimeoutNow at once and wins the next term', () => {
    const cluster = clusterLedBy1()
    const mark = cluster.sent.length
    cluster.node('1').transferLeadership('2')
    cluster.flush('1')
    expect(sentSince(cluster, mark, (m) => m.type === 'timeout-now')).toMatchObject([
      { from: '1', to: '2', term: 2 },
    ])
    cluster.stabilize()
    expect(cluster.node('2').status()).toMatchObject({ role: 'leader', term: 3 })
    expect(cluster.node('1').status()).toMatchObject({ role: 'follower', term: 3, leader: '2' })
  })

  it('a lagging target is caught up first, and proposals are refused meanwhile', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    cluster.isolate('3')
    leader.propose([data('a')])
    cluster.stabilize()
    const mark = cluster.sent.length
    leader.transferLeadership('3')
    cluster.flush('1')
    expect(sentSince(cluster, mark, (m) => m.type === 'timeout-now')).toEqual([])
    expect(leader.status().leadTransferee).toBe('3')
    expect(errorName(() => leader.propose([data('b')]))).toBe('ProposalDroppedError')
    cluster.heal()
    cluster.tick('1')
    cluster.stabilize()
    const timeoutNow = cluster.sentWhere((m) => m.type === 'timeout-now')
    const caughtUp = cluster.sentWhere(
      (m) => m.type === 'append-response' && m.from === '3' && !m.reject && m.index === 3,
    )
    expect(timeoutNow).toHaveLength(1)
    expect(cluster.sent.indexOf(timeoutNow[0] as Message)).toBeGreaterThan(
      cluster.sent.indexOf(caughtUp[0] as Message),
    )
    expect(cluster.node('3').status()).toMatchObject({ role: 'leader', term: 3 })
  })

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    cluster.isolate('3')
    leader.transferLeadership('3')
    for (let i = 0; i < electionTicks; i++) {
      cluster.tick('1')
      cluster.stabilize()
    }
    expect(leader.status()).toMatchObject({ role: 'leader', term: 2, leadTransferee: null })
    expect(() => leader.propose([data('after')])).not.toThrow()
  })
})

describe('membership changes (thesis §4)', () => {
  it('only one configuration change is in flight at a time', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    expect(leader.proposeConfigurationChange({ type: 'add-non-voter', node: '4' })).not.toBeNull()
    expect(
      errorName(() => leader.proposeConfigurationChange({ type: 'add-non-voter', node: '5' })),
    ).toBe('ConfigurationChangeInProgressError')
    cluster.stabilize()
    expect(leader.raft.configuration.nonVoters).toEqual(['4'])
    expect(leader.proposeConfigurationChange({ type: 'add-non-voter', node: '5' })).not.toBeNull()
  })

  it('a new member added as a voter is staged, then promoted by the leader once it has caught up', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    for (let i = 0; i < 5; i++) leader.propose([data(`x${i}`)])
    cluster.stabilize()
    const four = cluster.add(newRawNode('4', {}))
    cluster.drop = (m) => m.to === '4' || m.from === '4'
    leader.proposeConfigurationChange({ type: 'add-voter', node: '4' })
    cluster.stabilize()
    // Staged while it cannot catch up: it counts for no quorum yet.
    expect(leader.raft.configuration).toEqual({ voters: three, nonVoters: [], staging: ['4'] })
    cluster.heal()
    cluster.tickAll(3)
    for (const raw of cluster.nodes.values()) {
      expect(raw.raft.configuration).toEqual({
        voters: ['1', '2', '3', '4'],
        nonVoters: [],
        staging: [],
      })
    }
    expect(four.raft.log.entries).toEqual(leader.raft.log.entries)
  })

  describe('a leader that removes itself stops accepting proposals, then hands leadership to a remaining voter at once (thesis §4.2.2)', () => {
    // Batched delivery is what the driver does: the successor may receive the commit of the
    // removal and TimeoutNow in the same turn, before it has applied the removal.
    it.each([
      ['one message at a time', false],
      ['in batches, as a driver delivers them', true],
    ])('with messages delivered %s', (_, batched) => {
      const cluster = clusterLedBy1()
      const leader = cluster.node('1')
      leader.proposeConfigurationChange({ type: 'remove', node: '1' })
      expect(errorName(() => leader.propose([data('late')]))).toBe('ProposalDroppedError')
      cluster.stabilize({ batched })
      expect(leader.status()).toMatchObject({ role: 'follower' })
      expect(cluster.sentWhere((m) => m.type === 'timeout-now')).toHaveLength(1)
      // No tick has passed: only the handover can have elected the successor.
      const successors = ['2', '3'].filter((id) => cluster.node(id).raft.role === 'leader')
      expect(successors).toHaveLength(1)
      for (const id of ['2', '3']) {
        expect(cluster.node(id).raft.configuration.voters).toEqual(['2', '3'])
        expect(cluster.node(id).raft.term).toBe(3)
      }
    })
  })

  it('a leader cannot remove itself from a two-voter cluster (it must hand over first)', () => {
    // Had it appended its removal and crashed before node 2 had it, node 2 could never be
    // elected and node 1 could not campaign: stuck for good.
    const cluster = clusterLedBy1(['1', '2'])
    const leader = cluster.node('1')
    let caught: unknown
    try {
      leader.proposeConfigurationChange({ type: 'remove', node: '1' })
    } catch (error) {
      caught = error
    }
    expect((caught as Error).name).toBe('ConfigurationChangeError')
    expect((caught as Error).message).toMatch(/transfer leadership/)
    expect(leader.raft.configuration.voters).toEqual(['1', '2'])
  })

  it('a node removed from the configuration never campaigns', () => {
    const cluster = clusterLedBy1()
    cluster.node('1').proposeConfigurationChange({ type: 'remove', node: '3' })
    cluster.stabilize()
    const removed = cluster.node('3')
    expect(removed.raft.configuration.voters).toEqual(['1', '2'])
    cluster.isolate('3')
    const mark = cluster.sent.length
    cluster.tick('3', 5 * electionTicks)
    removed.campaign()
    cluster.flush('3')
    expect(sentSince(cluster, mark, (m) => m.from === '3')).toEqual([])
    expect(removed.raft.role).toBe('follower')
  })

  it('a non-voter is never counted in a quorum, for votes or for commitment, and never campaigns', () => {
    const options: TestOptions = { preVote: false, checkQuorum: false }
    const cluster = new RawCluster()
    for (const id of three) {
      cluster.add(
        newRawNode(id, storedState({ voters: ['1', '2'], nonVoters: ['3'], term: 1 }), options),
      )
    }
    const leader = cluster.node('1')
    // Votes: a grant from the non-voter does not elect anyone, and it is never asked.
    leader.campaign()
    cluster.flush('1')
    leader.step({ type: 'vote-response', from: '3', to: '1', term: 2, reject: false })
    expect(leader.raft.role).toBe('candidate')
    expect(cluster.sentWhere((m) => m.type === 'vote').map((m) => m.to)).toEqual(['2'])
    cluster.stabilize()
    expect(leader.raft.role).toBe('leader')
    // Commitment: with the other voter cut off, the non-voter's acknowledgement commits nothing.
    cluster.isolate('2')
    const { index } = leader.propose([data('x')])
    cluster.stabilize()
    expect(cluster.node('3').raft.log.lastIndex()).toBe(index)
    expect(leader.raft.log.committed).toBeLessThan(index)
    cluster.heal()
    cluster.tick('1')
    cluster.stabilize()
    expect(leader.raft.log.committed).toBe(index)
    // And it never campaigns, however long it hears nothing.
    cluster.isolate('3')
    const mark = cluster.sent.length
    cluster.tick('3', 5 * electionTicks)
    expect(sentSince(cluster, mark, (m) => m.from === '3')).toEqual([])
  })
})

describe('snapshots (paper §7)', () => {
  /** Node 3 misses five entries that node 1 then compacts away. */
  function followerBehindCompaction(): { cluster: RawCluster; snapshot: SnapshotMetadata } {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    cluster.isolate('3')
    for (let i = 0; i < 5; i++) leader.propose([data(`x${i}`)])
    cluster.stabilize()
    const applied = leader.raft.log.applied
    const snapshot: SnapshotMetadata = {
      index: applied,
      term: 2,
      configuration: leader.raft.configuration,
    }
    leader.snapshotTaken(snapshot, applied)
    expect(leader.status().firstIndex).toBe(applied + 1)
    return { cluster, snapshot }
  }

  it('a follower that needs compacted entries is sent the snapshot, then the entries after it', () => {
    const { cluster, snapshot } = followerBehindCompaction()
    const [leader, follower] = [cluster.node('1'), cluster.node('3')]
    leader.propose([data('after')])
    cluster.stabilize()
    cluster.heal()
    cluster.tick('1')
    cluster.stabilize()
    expect(cluster.sentWhere((m) => m.type === 'snapshot')).toEqual([
      { type: 'snapshot', from: '1', to: '3', term: 2, snapshot },
    ])
    expect(follower.status()).toMatchObject({
      firstIndex: snapshot.index + 1,
      commitIndex: leader.raft.log.committed,
    })
    expect(follower.raft.log.entries).toEqual(leader.raft.log.entries)
    expect(leader.status().progress['3']).toMatchObject({
      state: 'replicate',
      match: leader.raft.log.lastIndex(),
    })
  })

  it('a failed snapshot returns the follower to probe state, and the snapshot is sent again', () => {
    const { cluster, snapshot } = followerBehindCompaction()
    const leader = cluster.node('1')
    cluster.drop = (m) => m.type === 'snapshot'
    cluster.tick('1')
    cluster.stabilize()
    expect(leader.status().progress['3']?.state).toBe('snapshot')
    leader.reportSnapshot('3', 'failed')
    expect(leader.status().progress['3']?.state).toBe('probe')
    cluster.heal()
    cluster.tick('1')
    cluster.stabilize()
    expect(cluster.sentWhere((m) => m.type === 'snapshot')).toHaveLength(2)
    expect(cluster.node('3').status()).toMatchObject({
      firstIndex: snapshot.index + 1,
      commitIndex: leader.raft.log.committed,
    })
  })

  it("a follower that installs a snapshot takes the snapshot's configuration", () => {
    const raw = newRawNode('4', {})
    const snapshot: SnapshotMetadata = {
      index: 20,
      term: 4,
      configuration: { voters: ['1', '2', '3'], nonVoters: ['4'], staging: [] },
    }
    raw.step({ type: 'snapshot', from: '1', to: '4', term: 5, snapshot })
    const ready = raw.ready()
    expect(ready.snapshot).toEqual(snapshot)
    expect(ready.messages).toMatchObject([
      { type: 'append-response', to: '1', index: 20, reject: false },
    ])
    raw.advance(ready)
    expect(raw.status()).toMatchObject({
      term: 5,
      leader: '1',
      commitIndex: 20,
      appliedIndex: 20,
      lastIndex: 20,
      configuration: snapshot.configuration,
    })
  })
})

describe('rebuilding the log from storage after a restart', () => {
  const configuration = { voters: ['1'], nonVoters: [], staging: [] }
  const snapshotAt = (index: number, term: number): SnapshotMetadata => ({
    index,
    term,
    configuration,
  })
  const range = (from: number, to: number, term: number): Entry[] =>
    Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term))

  it('a node restarting with a stale commit index uses the latest configuration in its log, so it cannot elect itself alone', () => {
    // The bug this guards against: a leader that bootstrapped alone and then added two peers
    // was killed; its persisted commit index predated the additions, and on restart it applied
    // only the bootstrap configuration, elected itself alone and made a second leader.
    const change = (index: number, change: ConfigurationChange): Entry => ({
      index,
      term: 1,
      type: 'configuration',
      data: encodeConfigurationChange(change),
    })
    const entries = [
      change(1, {
        type: 'bootstrap',
        configuration: { voters: ['1'], nonVoters: [], staging: [] },
      }),
      change(2, { type: 'add-voter', node: '2' }),
      change(3, { type: 'promote', node: '2' }),
      change(4, { type: 'add-voter', node: '3' }),
      change(5, { type: 'promote', node: '3' }),
    ]
    const node = newRawNode(
      '1',
      { hardState: { term: 1, vote: '1', commit: 1 }, entries },
      { preVote: false },
    )
    drain(node)
    expect(node.raft.configuration.voters).toEqual(['1', '2', '3'])
    node.campaign()
    expect(node.raft.role).toBe('candidate')
    const asked = drain(node)
      .messages.filter((message) => message.type === 'vote')
      .map((message) => message.to)
    expect(asked.sort()).toEqual(['2', '3'])
  })

  it('entries kept from before the snapshot stay available, and the log continues past it', () => {
    const log = RaftLog.fromStorage(snapshotAt(5, 2), range(3, 8, 2), 6)
    expect([log.firstIndex(), log.lastIndex()]).toEqual([4, 8])
    expect(log.term(5)).toBe(2)
    expect(log.entry(4)).toEqual(entry(4, 2))
    // The state machine was restored from the snapshot: entries after it are applied again.
    expect([log.applied, log.committed, log.stableIndex]).toEqual([5, 6, 8])
  })

  it('a log compacted exactly through the snapshot continues from it', () => {
    const log = RaftLog.fromStorage(snapshotAt(5, 2), range(6, 8, 3), 2)
    expect([log.firstIndex(), log.lastIndex(), log.term(5), log.term(6)]).toEqual([6, 8, 2, 3])
    // A commit index older than the snapshot is raised to it.
    expect([log.applied, log.committed]).toEqual([5, 5])
  })

  it('a stored log that disagrees with the snapshot, or ends before it, is replaced by the snapshot', () => {
    for (const stored of [range(3, 8, 1), range(1, 4, 2)]) {
      const log = RaftLog.fromStorage(snapshotAt(5, 2), stored, 4)
      expect([log.firstIndex(), log.lastIndex(), log.lastTerm()]).toEqual([6, 5, 2])
      expect([log.applied, log.committed]).toEqual([5, 5])
      expect(log.entries).toEqual([])
    }
  })

  it('a commit index past the stored log is refused as a lost log suffix, not lowered', () => {
    let caught: unknown
    try {
      RaftLog.fromStorage(undefined, logOfTerms([1, 1, 2]), 9)
    } catch (error) {
      caught = error
    }
    expect((caught as Error).name).toBe('StorageCorruptError')
    expect((caught as Error).message).toMatch(/commit index 9 is past the last stored entry 3/)
    expect((caught as Error).message).toMatch(/lost its suffix.*restore .* from a backup/)
    // Past a snapshot, the snapshot counts as stored.
    expect(RaftLog.fromStorage(snapshotAt(5, 2), [], 5).committed).toBe(5)
    expect(errorName(() => RaftLog.fromStorage(snapshotAt(5, 2), [], 6))).toBe(
      'StorageCorruptError',
    )
  })

  describe('a log with missing entries is refused with StorageCorruptError', () => {
    const cases: Array<[string, SnapshotMetadata | undefined, Entry[]]> = [
      ['a gap between stored entries', undefined, [entry(1, 1), entry(2, 1), entry(4, 1)]],
      [
        'a gap between stored entries after a snapshot',
        snapshotAt(5, 2),
        [entry(6, 2), entry(8, 2)],
      ],
      ['entries starting past the snapshot', snapshotAt(5, 2), range(7, 9, 2)],
      ['entries not starting at 1 without a snapshot', undefined, range(2, 4, 1)],
    ]
    it.each(cases)('%s', (_, snapshot, stored) => {
      expect(errorName(() => RaftLog.fromStorage(snapshot, stored, 0))).toBe('StorageCorruptError')
    })
  })
})

/**
 * One test per mistake that mutation testing found nothing else catching (issue 13); the list,
 * and how to re-check it, is in CONTRIBUTING.md.
 */
describe('rules a plausible mistake would break', () => {
  it('a vote cast in the current term, with the term unchanged, is a hard-state change to persist', () => {
    // Node 3 already knows term 2 (from a candidate whose request it rejected) without voting.
    const voter = newRawNode('3', storedState({ voters: three, term: 2, vote: null }), {
      preVote: false,
    })
    drain(voter)
    voter.step({
      type: 'vote',
      from: '2',
      to: '3',
      term: 2,
      index: 0,
      logTerm: 0,
      transfer: false,
    })
    expect(voter.hasReady()).toBe(true)
    const ready = voter.ready()
    expect(ready.hardState).toEqual({ term: 2, vote: '2', commit: 0 })
    expect(ready.messages.map((message) => message.type)).toEqual(['vote-response'])
    voter.advance(ready)
  })

  it('a staging member is promoted only once it has every committed entry, not at its first acknowledgement', () => {
    const cluster = clusterLedBy1(three, { maxEntriesPerMessage: 1 })
    const leader = cluster.node('1')
    for (let i = 0; i < 6; i++) leader.propose([data(`x${i}`)])
    cluster.stabilize()
    cluster.add(newRawNode('4', {}))
    const added = leader.proposeConfigurationChange({ type: 'add-voter', node: '4' })
    cluster.tickAll(30)
    expect(leader.raft.configuration.voters).toContain('4')
    // Messages are delivered one at a time, so the acknowledgement from 4 that made the leader
    // promote it is the last one sent before the first append carrying the promotion.
    const isPromotion = (m: Message) =>
      m.type === 'append' &&
      m.entries.some(
        (e) => e.type === 'configuration' && decodeConfigurationChange(e.data).type === 'promote',
      )
    const promotion = cluster.sent.findIndex(isPromotion)
    const acknowledgements = cluster.sent
      .slice(0, promotion)
      .filter((m) => m.type === 'append-response' && m.from === '4' && !m.reject)
      .map((m) => (m as { index: number }).index)
    // It acknowledged partial progress first (one entry per append), which must not promote it.
    expect(acknowledgements.length).toBeGreaterThan(1)
    expect(acknowledgements[0]).toBeLessThan(added?.index ?? 0)
    expect(acknowledgements.at(-1)).toBeGreaterThanOrEqual(added?.index ?? Number.POSITIVE_INFINITY)
  })

  it('a new leader refuses a configuration change until the first entry of its term commits', () => {
    const cluster = clusterLedBy1(three, { preVote: false, checkQuorum: false })
    // Node 2 wins term 3, but its no-op reaches no one yet.
    const two = cluster.node('2')
    cluster.drop = (m) => m.from === '2' && m.type === 'append'
    two.campaign()
    cluster.flush('2')
    cluster.stabilize()
    expect(two.raft.role).toBe('leader')
    expect(two.raft.log.committed).toBeLessThan(two.raft.log.lastIndex())
    expect(
      errorName(() => two.proposeConfigurationChange({ type: 'add-non-voter', node: '4' })),
    ).toBe('ConfigurationChangeInProgressError')
    cluster.heal()
    cluster.tick('2')
    cluster.stabilize()
    expect(two.raft.log.term(two.raft.log.committed)).toBe(two.raft.term)
    expect(two.proposeConfigurationChange({ type: 'add-non-voter', node: '4' })).not.toBeNull()
  })

  it('a leader that removes itself keeps leading until its removal commits, and only then hands over', () => {
    const cluster = clusterLedBy1()
    const leader = cluster.node('1')
    // Followers cannot acknowledge yet: the removal is appended but not committed.
    cluster.drop = (m) => m.type === 'append-response'
    const { index } = leader.proposeConfigurationChange({ type: 'remove', node: '1' }) ?? {
      index: 0,
    }
    cluster.stabilize()
    cluster.tick('1', 3)
    cluster.stabilize()
    expect(leader.raft.log.committed).toBeLessThan(index)
    expect(leader.raft.role).toBe('leader')
    expect(cluster.sentWhere((m) => m.type === 'timeout-now')).toEqual([])
    cluster.heal()
    cluster.tick('1')
    cluster.stabilize()
    expect(leader.raft.role).toBe('follower')
    const handover = cluster.sentWhere((m) => m.type === 'timeout-now')
    expect(handover).toHaveLength(1)
    const successor = cluster.node(handover[0]?.to as NodeId)
    expect(successor.raft.log.committed).toBeGreaterThanOrEqual(index)
  })
})
