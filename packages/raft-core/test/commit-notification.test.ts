import { afterEach, describe, expect, it } from 'vitest'
import type { Message } from '../src/index.ts'
import { TestCluster } from './support/cluster.ts'
import { put } from './support/kv-state-machine.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

// Heartbeats every 500 simulated ms (they carry the commit index too), so within a window
// shorter than that only appends can tell a follower what committed.
const timing = { tickInterval: 10, electionTicks: 100, heartbeatTicks: 50 }

/** Appends without entries the leader sent while `body` ran. */
async function emptyAppendsDuring(leaderId: string, body: () => Promise<void>): Promise<number> {
  let count = 0
  cluster.network.filter = (message: Message) => {
    if (message.from === leaderId && message.type === 'append' && message.entries.length === 0)
      count++
    return 'deliver'
  }
  await body()
  cluster.network.filter = undefined
  return count
}

async function sequentialProposals(count: number): Promise<number> {
  await cluster.bootstrap(['a', 'b', 'c'])
  const leader = await cluster.waitForLeader()
  await cluster.settle(leader.node.propose(put('warm', 'up')))
  await cluster.advance(600)
  return emptyAppendsDuring(leader.id, async () => {
    for (let i = 0; i < count; i++) await cluster.settle(leader.node.propose(put(`k${i}`, 'v')))
  })
}

describe('commitNotificationDelay', () => {
  it('is off by default: each commit is announced at once with an append of its own', async () => {
    cluster = new TestCluster(timing)
    expect(await sequentialProposals(10)).toBeGreaterThanOrEqual(20)
  })

  it("lets a sequential proposer's next append carry the commit index instead", async () => {
    cluster = new TestCluster({ ...timing, commitNotificationDelay: 5_000 })
    expect(await sequentialProposals(10)).toBeLessThanOrEqual(2)
    // Nothing is lost: the last commit index reaches the followers with a heartbeat or the delay.
    await cluster.until(() =>
      [...cluster.members.values()].every((m) => m.stateMachine.values.get('k9') === 'v'),
    )
  })

  it('sends a held commit index after the delay, or at once to a follower it is flushed to', async () => {
    cluster = new TestCluster({ ...timing, commitNotificationDelay: 200 })
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const [first, second] = [...cluster.members.values()].filter((m) => m !== leader)
    await cluster.settle(leader.node.propose(put('warm', 'up')))
    await cluster.advance(600)
    await cluster.settle(leader.node.propose(put('x', '1')))
    // Committed and applied on the leader; the followers have the entry, not its commit.
    expect(leader.stateMachine.values.get('x')).toBe('1')
    expect(first!.stateMachine.values.get('x')).toBeUndefined()
    await cluster.advance(250)
    expect(first!.stateMachine.values.get('x')).toBe('1')
    expect(second!.stateMachine.values.get('x')).toBe('1')

    await cluster.settle(leader.node.propose(put('y', '2')))
    leader.node.flushCommitNotifications(first!.id)
    await cluster.advance(1)
    expect(first!.stateMachine.values.get('y')).toBe('2')
    expect(second!.stateMachine.values.get('y')).toBeUndefined()
  })

  it('sends a held commit index before any other message to that follower', async () => {
    cluster = new TestCluster({ ...timing, commitNotificationDelay: 5_000 })
    await cluster.bootstrap(['a', 'b', 'c'])
    const leader = await cluster.waitForLeader()
    const follower = [...cluster.members.values()].find((m) => m !== leader)!
    await cluster.settle(leader.node.propose(put('warm', 'up')))
    await cluster.advance(600)
    await cluster.settle(leader.node.propose(put('x', '1')))
    const seen: string[] = []
    cluster.network.filter = (message: Message) => {
      if (message.from === leader.id && message.to === follower.id) {
        seen.push(message.type === 'append' ? `append of ${message.entries.length}` : message.type)
      }
      return 'deliver'
    }
    // The next heartbeat (every 500 ms) comes long before the delay ends.
    await cluster.until(() => seen.includes('heartbeat'), 1_000)
    expect(seen.slice(0, 2)).toEqual(['append of 0', 'heartbeat'])
  })

  it('refuses a negative delay', () => {
    cluster = new TestCluster({ commitNotificationDelay: -1 })
    return expect(cluster.bootstrap(['a'])).rejects.toThrow(/commitNotificationDelay/)
  })
})
