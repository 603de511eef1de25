import { afterEach, describe, expect, it } from 'vitest'
import { TestCluster } from './support/cluster.ts'
import { put } from './support/kv-state-machine.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

describe('RaftNode', () => {
  it('elects a leader and applies a proposal on every node, resolving with the result', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const index = await cluster.settle(leader.node.propose(put('k', 'v')))
    expect(typeof index).toBe('number')
    await cluster.until(() =>
      [...cluster.members.values()].every((m) => m.stateMachine.values.get('k') === 'v'),
    )
    for (const member of cluster.members.values()) {
      expect(member.stateMachine.appliedIndexes).toEqual([index])
    }
  })

  it('leads at once as the sole voter, on its first start and after a restart, with no election timeout', async () => {
    cluster = new TestCluster({ electionTicks: 10 })
    const member = cluster.create('a')
    const events: string[] = []
    member.node.addEventListener('role:change', (event) => events.push(`role ${event.detail.role}`))
    member.node.addEventListener('leader:change', (event) =>
      events.push(`leader ${event.detail.leader}`),
    )
    await member.node.bootstrap({ voters: ['a'], nonVoters: [], staging: [] })
    await member.node.start()
    // No simulated time has passed: not one tick, let alone an election timeout.
    expect(member.node.role).toBe('leader')
    // Reported as any election is, once its Ready is handled.
    await cluster.until(() => events.length >= 2)
    expect(events).toEqual(['role leader', 'leader a'])
    const index = await cluster.settle(cluster.get('a').node.propose(put('k', 'v')))
    await cluster.stop('a')
    const restarted = await cluster.restart('a')
    expect(restarted.node.role).toBe('leader')
    expect(restarted.node.status().term).toBe(3)
    await cluster.until(() => restarted.node.appliedIndex >= index)
    expect(restarted.stateMachine.values.get('k')).toBe('v')
  })

  it('waits for its election timeout as one voter of several', async () => {
    cluster = new TestCluster({ electionTicks: 10 })
    await cluster.bootstrap(['a', 'b', 'c'])
    expect([...cluster.members.values()].map((member) => member.node.role)).toEqual([
      'follower',
      'follower',
      'follower',
    ])
    await cluster.waitForLeader()
  })

  it('refuses proposals on a follower with the leader to redirect to', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    await cluster.until(() =>
      [...cluster.members.values()].every((m) => m.node.leader === leader.id),
    )
    const follower = [...cluster.members.values()].find((m) => m !== leader)
    const error = await follower?.node.propose(put('k', 'v')).catch((e: unknown) => e)
    expect((error as Error).name).toBe('NotLeaderError')
    expect((error as { leader: string }).leader).toBe(leader.id)
  })

  it('batches concurrent proposals and applies them in order', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const results = await cluster.settle(
      Promise.all(Array.from({ length: 50 }, (_, i) => leader.node.propose(put(`k${i}`, `${i}`)))),
    )
    expect(results).toEqual([...results].sort((x, y) => x - y))
    expect(new Set(results).size).toBe(50)
    await cluster.until(() =>
      [...cluster.members.values()].every((m) => m.stateMachine.values.size === 50),
    )
  })

  it('keeps every acknowledged entry when the leader stops, and a new leader takes over', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    for (let i = 0; i < 10; i++) await cluster.settle(leader.node.propose(put(`k${i}`, 'x')))
    await cluster.stop(leader.id)
    await cluster.until(() => {
      const next = cluster.leader()
      return next !== undefined && next.id !== leader.id
    })
    const next = cluster.leader()
    expect(next?.id).not.toBe(leader.id)
    await cluster.settle(next?.node.propose(put('after', 'y')) as Promise<number>)
    for (let i = 0; i < 10; i++) expect(next?.stateMachine.values.get(`k${i}`)).toBe('x')
  })

  it('rebuilds its state machine from its stores after a restart', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    for (let i = 0; i < 5; i++) await cluster.settle(leader.node.propose(put(`k${i}`, 'x')))
    const follower = [...cluster.members.values()].find(
      (m) => m !== leader,
    ) as typeof cluster.members extends Map<string, infer M> ? M : never
    await cluster.until(() => follower.stateMachine.values.size === 5)
    await cluster.stop(follower.id)
    const before = follower.stateMachine
    const restarted = await cluster.restart(follower.id)
    // A fresh, empty state machine is rebuilt from the persisted log alone.
    expect(restarted.stateMachine).not.toBe(before)
    await cluster.until(() => restarted.stateMachine.values.size === 5)
    expect(restarted.stateMachine.appliedIndexes).toEqual(before.appliedIndexes)
  })

  it('adds a voter as staging and promotes it once it has caught up', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    for (let i = 0; i < 20; i++) await cluster.settle(leader.node.propose(put(`k${i}`, 'x')))
    const joiner = await cluster.join('d')
    const caughtUp: string[] = []
    leader.node.addEventListener('peer:caught-up', (event) => caughtUp.push(event.detail.id))
    await cluster.settle(leader.node.addVoter('d'))
    // The promotion takes effect once appended; the event fires once it is applied.
    await cluster.until(() => leader.node.configuration.voters.includes('d') && caughtUp.length > 0)
    expect(caughtUp).toEqual(['d'])
    expect(joiner.stateMachine.values.size).toBe(20)
    await cluster.settle(joiner.node.waitForSync())
  })

  it('treats adding an existing member and removing an absent one as no-ops, and refuses to remove the last voter', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a'])
    const leader = await cluster.waitForLeader()
    const before = leader.node.status().lastIndex
    await cluster.settle(leader.node.addVoter('a'))
    await cluster.settle(leader.node.removeServer('zz'))
    expect(leader.node.status().lastIndex).toBe(before)
    const error = await cluster.settle(leader.node.removeServer('a')).catch((e: unknown) => e)
    expect((error as Error).name).toBe('ConfigurationChangeError')
    expect((error as Error).message).toMatch(/last voter/)
  })

  it('applies entries in order and one at a time when the state machine applies asynchronously, snapshotting between them', async () => {
    cluster = new TestCluster(
      { snapshotThreshold: 10, trailingLogs: 2 },
      { asynchronousApply: true },
    )
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    for (let i = 0; i < 15; i++) {
      expect(await cluster.settle(leader.node.propose(put(`s${i}`, `${i}`)))).toBeGreaterThan(0)
    }
    const results = await cluster.settle(
      Promise.all(Array.from({ length: 40 }, (_, i) => leader.node.propose(put(`c${i}`, `${i}`)))),
    )
    expect(results).toEqual([...results].sort((x, y) => x - y))
    await cluster.until(() =>
      [...cluster.members.values()].every((m) => m.stateMachine.values.size === 55),
    )
    for (const member of cluster.members.values()) {
      const applied = member.stateMachine.appliedIndexes
      expect(applied).toEqual([...applied].sort((x, y) => x - y))
      expect(new Set(applied).size).toBe(applied.length)
      expect(member.node.status().state).toBe('running')
    }
    // Snapshots were taken (and the log compacted) between asynchronous applies.
    expect(leader.node.status().firstIndex).toBeGreaterThan(2)
  })

  it('installs a snapshot on a follower that fell behind the compacted log', async () => {
    cluster = new TestCluster({ snapshotThreshold: 10, trailingLogs: 2 })
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const lagging = [...cluster.members.values()].find((m) => m !== leader) as NonNullable<
      ReturnType<TestCluster['leader']>
    >
    await cluster.until(() => lagging.node.leader === leader.id)
    cluster.network.isolate(lagging.id)
    for (let i = 0; i < 30; i++) await cluster.settle(leader.node.propose(put(`k${i}`, `${i}`)))
    expect(leader.node.status().firstIndex).toBeGreaterThan(2)
    cluster.network.heal()
    await cluster.until(() => lagging.stateMachine.values.size === 30, 20_000)
    expect(lagging.stateMachine.restores).toBe(1)
    expect(lagging.stateMachine.values.get('k29')).toBe('29')
  })

  it('hands over leadership when the leader removes itself', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    await cluster.settle(leader.node.propose(put('k', 'v')))
    await cluster.settle(leader.node.removeServer(leader.id))
    await cluster.until(() => {
      const next = cluster.leader()
      return next !== undefined && next.id !== leader.id
    })
    const next = cluster.leader()
    expect(next?.node.configuration.voters).not.toContain(leader.id)
    expect(leader.node.role).toBe('follower')
    await cluster.settle(next?.node.propose(put('k2', 'v')) as Promise<number>)
  })

  it('transfers leadership to the chosen voter', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const target = ['a', 'b', 'c'].find((id) => id !== leader.id) as string
    const result = await cluster.settle(leader.node.transferLeadership(target))
    expect(result).toBe(target)
    await cluster.until(() => cluster.get(target).node.role === 'leader')
  })

  it('serves linearizable read indexes on followers and barriers on the leader', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const written = await cluster.settle(leader.node.propose(put('k', 'v')))
    const follower = [...cluster.members.values()].find((m) => m !== leader) as NonNullable<
      ReturnType<TestCluster['leader']>
    >
    const readIndex = await cluster.settle(follower.node.readIndex())
    expect(readIndex).toBeGreaterThanOrEqual(written)
    expect(follower.stateMachine.values.get('k')).toBe('v')
    const barrier = await cluster.settle(leader.node.barrier())
    expect(barrier).toBeGreaterThan(written)
  })

  it('fails stop on a storage error: the write is not acknowledged and the node refuses further work', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a'])
    const leader = await cluster.waitForLeader()
    await cluster.settle(leader.node.propose(put('ok', '1')))
    const failures: string[] = []
    leader.node.addEventListener('node:failed', (event) => failures.push(event.detail.error.name))
    leader.logStore.failNext(new Error('disk on fire'))
    const error = await cluster
      .settle(leader.node.propose(put('lost', '2')))
      .catch((e: unknown) => e)
    expect((error as Error).name).toBe('StorageFailedError')
    expect(failures).toEqual(['StorageFailedError'])
    expect(leader.stateMachine.values.has('lost')).toBe(false)
    expect(() => leader.node.propose(put('x', '3'))).toThrow(/storage failure/)
  })

  it('rejects a lost proposal whose index a later proposal of its node takes, instead of leaving it waiting', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const first = await cluster.waitForLeader()
    await cluster.settle(first.node.propose(put('k', 'committed')))
    const committed = first.node.status().lastIndex
    // Cut off, the leader appends three entries that can never commit.
    cluster.network.isolate(first.id)
    const lost = ['x1', 'x2', 'x3'].map((key) =>
      first.node.propose(put(key, 'lost')).then(
        (index) => ({ index }),
        (error: unknown) => ({ error: error as Error }),
      ),
    )
    await cluster.advance(5)
    expect(first.node.status().lastIndex).toBe(committed + 3)
    // The others elect a leader, which appends only its empty entry; once healed, the old
    // leader's log is cut back to committed + 1.
    await cluster.until(() => {
      const next = cluster.leader()
      return next !== undefined && next.id !== first.id
    })
    const second = cluster.leader() as NonNullable<ReturnType<TestCluster['leader']>>
    cluster.network.heal()
    await cluster.until(() => first.node.status().lastIndex === committed + 1)
    // Leading again, it appends its empty entry at committed + 2 and the next proposal at
    // committed + 3, the index the third lost proposal waited for.
    await cluster.settle(second.node.transferLeadership(first.id))
    await cluster.until(() => first.node.role === 'leader')
    const index = await cluster.settle(first.node.propose(put('y', 'new')))
    expect(index).toBe(committed + 3)
    const outcomes = await cluster.settle(Promise.all(lost))
    for (const outcome of outcomes) {
      expect('error' in outcome ? outcome.error.name : outcome).toBe('ProposalLostError')
    }
    expect(first.stateMachine.values.get('y')).toBe('new')
    expect(first.stateMachine.values.has('x3')).toBe(false)
  })

  it('rejects a proposal whose signal aborts with an unknown outcome', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    for (const member of cluster.members.values())
      if (member !== leader) cluster.network.isolate(member.id)
    const controller = new AbortController()
    const pending = leader.node
      .propose(put('k', 'v'), { signal: controller.signal })
      .catch((e: unknown) => e)
    await cluster.advance(5)
    controller.abort()
    const error = (await pending) as Error
    expect(error.name).toBe('AbortedError')
    expect(error.message).toMatch(/unknown/)
  })
})

describe('RaftNode limits', () => {
  it('refuses a proposal larger than one message could carry, before it reaches the log', async () => {
    cluster = new TestCluster({ maxBytesPerMessage: 1024 })
    await cluster.bootstrap(['a'])
    const leader = await cluster.waitForLeader()
    const before = leader.node.status().lastIndex
    const error = await leader.node.propose(new Uint8Array(2048)).catch((e: unknown) => e)
    expect((error as Error).name).toBe('ProposalDroppedError')
    expect((error as Error).message).toMatch(/2048 bytes/)
    expect(leader.node.status().lastIndex).toBe(before)
  })
})

describe('RaftNode membership', () => {
  it('removing the leader of a two-voter cluster hands leadership over first, and the new leader removes it', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(['a', 'b'])
    const leader = await cluster.waitForLeader()
    const other = cluster.get(leader.id === 'a' ? 'b' : 'a')
    const error = await cluster.settle(leader.node.removeServer(leader.id)).catch((e: unknown) => e)
    expect((error as Error).name).toBe('NotLeaderError')
    expect((error as { leader: string }).leader).toBe(other.id)
    await cluster.until(() => other.node.role === 'leader')
    await cluster.settle(other.node.removeServer(leader.id))
    expect(other.node.configuration.voters).toEqual([other.id])
    await cluster.settle(other.node.propose(put('still', 'works')))
  })
})
