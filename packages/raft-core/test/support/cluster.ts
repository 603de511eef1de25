import { seededRandom } from '../../sim/random.ts'
import {
  ManualClock,
  MemoryLogStore,
  MemoryNetwork,
  MemorySnapshotStore,
  MemoryStableStore,
  RaftNode,
  type RaftNodeInit,
} from '../../src/index.ts'
import { KeyValueStateMachine } from './kv-state-machine.ts'

export interface TestMember {
  id: string
  node: RaftNode<number>
  stateMachine: KeyValueStateMachine
  logStore: MemoryLogStore
  stableStore: MemoryStableStore
  snapshotStore: MemorySnapshotStore
}

/**
 * RaftNodes on a MemoryNetwork with memory stores and a manual clock: deterministic, fast
 * clusters for driver tests. Stores survive `restart`, like disks survive a process restart.
 */
export class TestCluster {
  readonly clock = new ManualClock()
  readonly network = new MemoryNetwork()
  readonly members = new Map<string, TestMember>()
  private seed = 1
  readonly init: RaftNodeInit

  /** State machines that apply asynchronously (each apply returns a promise). */
  readonly asynchronousApply: boolean

  constructor(init: RaftNodeInit = {}, options: { asynchronousApply?: boolean } = {}) {
    this.init = { tickInterval: 10, electionTicks: 10, heartbeatTicks: 1, ...init }
    this.asynchronousApply = options.asynchronousApply ?? false
  }

  create(id: string): TestMember {
    const member: TestMember = {
      id,
      node: undefined as unknown as RaftNode<number>,
      stateMachine: new KeyValueStateMachine({ asynchronous: this.asynchronousApply }),
      logStore: new MemoryLogStore(),
      stableStore: new MemoryStableStore(),
      snapshotStore: new MemorySnapshotStore(),
    }
    member.node = this.nodeFor(member)
    this.members.set(id, member)
    return member
  }

  private nodeFor(member: TestMember): RaftNode<number> {
    return new RaftNode<number>(
      {
        logStore: member.logStore,
        stableStore: member.stableStore,
        snapshotStore: member.snapshotStore,
        transport: this.network.transport(member.id),
        stateMachine: member.stateMachine,
        clock: this.clock,
      },
      { ...this.init, random: seededRandom(this.seed++) },
    )
  }

  /** Creates, bootstraps and starts `ids` as the initial voters. */
  async bootstrap(ids: string[]): Promise<void> {
    for (const id of ids) {
      const member = this.create(id)
      await member.node.bootstrap({ voters: ids, nonVoters: [], staging: [] })
      await member.node.start()
    }
  }

  /** Starts an empty node that waits to be added. */
  async join(id: string): Promise<TestMember> {
    const member = this.create(id)
    await member.node.start()
    return member
  }

  get(id: string): TestMember {
    const member = this.members.get(id)
    if (member === undefined) throw new Error(`no member ${id}`)
    return member
  }

  /** Stops a node, losing its in-memory state (stores and the state machine survive as "disk"). */
  async stop(id: string): Promise<void> {
    await this.get(id).node.stop()
  }

  /** Starts a stopped node again from its stores, with a fresh state machine. */
  async restart(id: string): Promise<TestMember> {
    const member = this.get(id)
    member.stateMachine = new KeyValueStateMachine({ asynchronous: this.asynchronousApply })
    member.node = this.nodeFor(member)
    await member.node.start()
    return member
  }

  async advance(milliseconds: number): Promise<void> {
    await this.clock.advance(milliseconds)
  }

  /** Advances time in small steps until `predicate` holds; throws after `limit` ms. */
  async until(predicate: () => boolean, limit = 10_000, step = 10): Promise<void> {
    for (let elapsed = 0; elapsed <= limit; elapsed += step) {
      if (predicate()) return
      await this.clock.advance(step)
    }
    throw new Error(`condition not met within ${limit} simulated ms`)
  }

  leader(): TestMember | undefined {
    const running = [...this.members.values()].filter(
      (member) => member.node.status().state === 'running',
    )
    const leaders = running.filter((member) => member.node.role === 'leader')
    // The leader with the highest term is the real one; older ones have not heard yet.
    leaders.sort((a, b) => b.node.status().term - a.node.status().term)
    return leaders[0]
  }

  async waitForLeader(limit = 10_000): Promise<TestMember> {
    await this.until(() => this.leader() !== undefined, limit)
    return this.leader() as TestMember
  }

  /**
   * Runs `operation` while advancing the clock until it settles (promises that wait on ticks
   * need simulated time to pass).
   */
  async settle<T>(operation: Promise<T>, limit = 10_000): Promise<T> {
    let done = false
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined
    operation.then(
      (value) => {
        done = true
        outcome = { ok: true, value }
      },
      (error: unknown) => {
        done = true
        outcome = { ok: false, error }
      },
    )
    await this.until(() => done, limit, 5)
    const result = outcome as { ok: true; value: T } | { ok: false; error: unknown }
    if (!result.ok) throw result.error
    return result.value
  }

  async stopAll(): Promise<void> {
    for (const member of this.members.values()) await member.node.stop()
  }
}
