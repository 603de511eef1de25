import { describe, expect, it } from 'vitest'
import { seededRandom } from '../sim/random.ts'
import {
  type Entry,
  ManualClock,
  MemoryLogStore,
  MemoryNetwork,
  MemorySnapshotStore,
  MemoryStableStore,
  RaftNode,
} from '../src/index.ts'
import { GatedLogStore, GatedStableStore, WriteGate } from './support/held-writes.ts'
import { KeyValueStateMachine, put } from './support/kv-state-machine.ts'

interface Peer {
  readonly id: string
  readonly logStore: MemoryLogStore
  readonly stableStore: MemoryStableStore
  readonly snapshotStore: MemorySnapshotStore
  readonly gate: WriteGate
  stateMachine: KeyValueStateMachine
  node: RaftNode<number>
}

const configuration = { voters: ['a'], nonVoters: ['b'], staging: [] }

/** A node on memory stores whose writes pass a gate, so a test can hold them or cut them off. */
function peer(id: string, network: MemoryNetwork, clock: ManualClock, seed: number): Peer {
  const created = {
    id,
    logStore: new MemoryLogStore(),
    stableStore: new MemoryStableStore(),
    snapshotStore: new MemorySnapshotStore(),
    gate: new WriteGate(),
    stateMachine: new KeyValueStateMachine(),
  } as Peer
  created.node = nodeFor(created, network, clock, seed)
  return created
}

function nodeFor(
  member: Peer,
  network: MemoryNetwork,
  clock: ManualClock,
  seed: number,
): RaftNode<number> {
  return new RaftNode<number>(
    {
      logStore: new GatedLogStore(member.logStore, member.gate),
      stableStore: new GatedStableStore(member.stableStore, member.gate),
      snapshotStore: member.snapshotStore,
      transport: network.transport(member.id),
      stateMachine: member.stateMachine,
      clock,
    },
    { tickInterval: 10, electionTicks: 10, heartbeatTicks: 1, random: seededRandom(seed) },
  )
}

async function until(clock: ManualClock, predicate: () => boolean, what: string): Promise<void> {
  for (let elapsed = 0; elapsed <= 5000; elapsed += 5) {
    if (predicate()) return
    await clock.advance(5)
  }
  throw new Error(`${what} did not happen within 5000 simulated ms`)
}

async function storedEntry(store: MemoryLogStore, index: number): Promise<Entry | undefined> {
  const last = await store.lastIndex()
  if (last < index) return undefined
  return (await store.entries(index, index + 1))[0]
}

describe('RaftNode write and send order', () => {
  it('sends no message of a term before that term is durable: a one-voter leader that crashes mid-write keeps Log Matching with its non-voter', async () => {
    const clock = new ManualClock()
    const network = new MemoryNetwork()
    const a = peer('a', network, clock, 1)
    const b = peer('b', network, clock, 2)
    await a.node.bootstrap(configuration)
    await b.node.bootstrap(configuration)
    await a.node.start()
    await b.node.start()
    await until(clock, () => b.node.appliedIndex === 2, "b receiving a's term-2 entry")
    expect(a.node.status().term).toBe(2)
    // b comes back in term 7 (it answers a's next heartbeat with it, and a steps down), and a's
    // write of term 7 is held: while the disk is busy, its election timer fires.
    await b.node.stop()
    const stored = await b.stableStore.load()
    await b.stableStore.save({ term: 7, vote: null, commit: stored?.commit ?? 0 })
    a.gate.rule = (write) => write.kind === 'save' && write.state.term === 7
    b.stateMachine = new KeyValueStateMachine()
    b.node = nodeFor(b, network, clock, 4)
    await b.node.start()
    await until(clock, () => a.gate.held.length === 1, 'a stepping down to term 7')
    await until(
      clock,
      () => a.node.role === 'leader' && a.node.status().term === 8,
      'a leading term 8 while its term-7 write is held',
    )
    const proposal = a.node.propose(put('k', '42'))
    proposal.catch(() => {})
    // The term-7 write lands; every write after it is held and never lands (the crash).
    a.gate.rule = () => true
    a.gate.release()
    await clock.advance(50)
    const before = (await a.stableStore.load())?.term
    expect(before).toBe(7)

    // Restart a from what its disk holds.
    a.gate.drop()
    a.gate.rule = undefined
    a.stateMachine = new KeyValueStateMachine()
    a.node = nodeFor(a, network, clock, 3)
    await a.node.start()
    await until(clock, () => a.node.role === 'leader', 'a leading again after the restart')
    const index = await new Promise<number>((resolve, reject) => {
      a.node.propose(put('k', '43')).then(resolve, reject)
      void until(clock, () => a.stateMachine.values.get('k') === '43', 'the proposal applying')
    })
    await until(clock, () => b.node.appliedIndex >= index, 'b applying the new entry')

    // Log Matching: b's entry at every index a holds is a's entry.
    for (let i = 1; i <= index; i++) {
      const ours = await storedEntry(a.logStore, i)
      const theirs = await storedEntry(b.logStore, i)
      expect({ index: i, term: theirs?.term, data: theirs?.data }).toEqual({
        index: i,
        term: ours?.term,
        data: ours?.data,
      })
    }
    expect(b.stateMachine.values.get('k')).toBe('43')
    await a.node.stop()
    await b.node.stop()
  })

  it('writes a new term before entries of it: a follower that learns both from one append saves the term first', async () => {
    const clock = new ManualClock()
    const network = new MemoryNetwork()
    const a = peer('a', network, clock, 1)
    const b = peer('b', network, clock, 2)
    await a.node.bootstrap(configuration)
    await b.node.bootstrap(configuration)
    b.gate.rule = () => true
    await a.node.start()
    await b.node.start()
    await until(clock, () => b.gate.held.length > 0, "b receiving the term-2 leader's append")
    // Only the hard state was issued: the entries wait until it is durable.
    expect(b.gate.held.map((held) => held.write)).toEqual([
      { kind: 'save', state: { term: 2, vote: null, commit: 1 } },
    ])
    b.gate.release()
    await until(clock, () => b.gate.held.length > 0, 'the entries write')
    // The entries, and with them perhaps the new commit index: the term is durable by now.
    const next = b.gate.held.map((held) => held.write)
    expect(next.map((write) => write.kind)).toContain('append')
    for (const write of next) if (write.kind === 'save') expect(write.state.term).toBe(2)
    b.gate.rule = undefined
    while (b.gate.held.length > 0) b.gate.release()
    await until(clock, () => b.node.appliedIndex === 2, "b applying the leader's no-op")
    expect((await b.stableStore.load())?.term).toBe(2)
    await a.node.stop()
    await b.node.stop()
  })

  it('refuses to start on a stored commit index past the stored log (a lost log suffix), changing nothing', async () => {
    const clock = new ManualClock()
    const network = new MemoryNetwork()
    const a = peer('a', network, clock, 1)
    await a.node.bootstrap(configuration)
    await a.stableStore.save({ term: 3, vote: 'a', commit: 9 })
    const error = await a.node.start().catch((caught: unknown) => caught)
    expect((error as Error).name).toBe('StorageCorruptError')
    expect((error as Error).message).toMatch(/commit index 9 is past the last stored entry 1/)
    expect(await a.stableStore.load()).toEqual({ term: 3, vote: 'a', commit: 9 })
    expect(await a.logStore.lastIndex()).toBe(1)
  })
})
