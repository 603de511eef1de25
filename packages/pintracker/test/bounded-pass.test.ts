import type { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import type { StatelessTracker } from '../src/stateless-tracker.ts'
import { FakeIpfsConnector, MemoryConsensusGroup } from '../src/testing/index.ts'
import { contentCid, type Setup, setup, start } from './support.ts'

const pinCount = 10_000
const concurrentPins = 10
const backlog = 100

let current: Setup[] = []

afterEach(async () => {
  for (const entry of current) await entry.tracker.stop()
  current = []
})

/** A pinset of `pinCount` pins this peer must hold, in the pinset's order. */
async function bigPinset(): Promise<{ group: MemoryConsensusGroup; cids: CID[] }> {
  const group = new MemoryConsensusGroup()
  const cids: CID[] = []
  for (let i = 0; i < pinCount; i++) {
    const cid = await contentCid(`bounded ${i}`)
    cids.push(cid)
    group.pin({ cid, timestamp: start })
  }
  cids.sort((a, b) => Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)))
  return { group, cids }
}

/** Real turns of the event loop (the pinset's walk yields to timers every few thousand pins). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/** The largest queue and record count seen at any operation change. */
function watch(tracker: StatelessTracker): { queue: number; records: number } {
  const seen = { queue: 0, records: 0 }
  tracker.addEventListener('operation:change', () => {
    seen.queue = Math.max(seen.queue, tracker.pinQueueSize())
    seen.records = Math.max(seen.records, tracker.operationCount())
  })
  return seen
}

async function statuses(tracker: StatelessTracker, filter?: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  const options = filter === undefined ? {} : { filter: new Set([filter]) as never }
  for await (const info of tracker.statusAll(options)) {
    counts.set(info.status, (counts.get(info.status) ?? 0) + 1)
  }
  return counts
}

describe('StatelessTracker reconciliation pass', () => {
  it('keeps at most concurrent_pins + backlog records while IPFS is stalled, the rest read pin_queued', async () => {
    const { group, cids } = await bigPinset()
    // No node holds the content: every pin waits (until a pin_timeout the clock never reaches).
    const s = await setup({ group, configuration: { concurrentPins }, reconcileBacklog: backlog })
    current.push(s)
    const { tracker, connector } = s
    const seen = watch(tracker)
    await turns(50)
    expect(tracker.operationCount()).toBe(concurrentPins + backlog)
    expect(seen.records).toBe(concurrentPins + backlog)
    expect(seen.queue).toBeLessThanOrEqual(backlog)
    expect(connector.maxInFlight).toBe(concurrentPins)

    // Not queued yet, but as good as: 1.x would show it queued.
    const last = await tracker.status(cids.at(-1)!)
    expect(last.status).toBe('pin_queued')
    expect(last.error).toBe('')
    expect(await statuses(tracker)).toEqual(
      new Map([
        ['pinning', concurrentPins],
        ['pin_queued', pinCount - concurrentPins],
      ]),
    )
    expect(await statuses(tracker, 'pin_queued')).toEqual(
      new Map([['pin_queued', pinCount - concurrentPins]]),
    )
    // The sync pass finds nothing lost.
    expect(await statuses(tracker, 'unexpectedly_unpinned')).toEqual(new Map())
    expect(tracker.operationCount()).toBe(concurrentPins + backlog)
  })

  it('resumes its walk as pins finish, and pins every pin with the window never over its bound', async () => {
    const { group, cids } = await bigPinset()
    const s = await setup({
      group,
      configuration: { concurrentPins: 50 },
      reconcileBacklog: backlog,
      pinDelay: 1000,
    })
    current.push(s)
    const { clock, network, tracker, connector } = s
    const holder = new FakeIpfsConnector({ network })
    for (const cid of cids) holder.addContent(cid)
    const seen = watch(tracker)
    for (let round = 0; round < 2_000 && connector.pinCount < pinCount; round++) {
      await clock.advance(1000)
      await turns(2)
    }
    expect(connector.pinCount).toBe(pinCount)
    expect(seen.queue).toBeLessThanOrEqual(backlog)
    expect(seen.records).toBeLessThanOrEqual(50 + backlog)
    expect(connector.maxInFlight).toBe(50)
    expect(await statuses(tracker)).toEqual(new Map([['pinned', pinCount]]))
    expect(tracker.operationCount()).toBe(0)
  })

  it('reads a pin that IPFS lost behind the walk as unexpectedly_unpinned, not pin_queued', async () => {
    const { group, cids } = await bigPinset()
    const s = await setup({ group, configuration: { concurrentPins }, reconcileBacklog: backlog })
    current.push(s)
    const { clock, network, tracker, connector } = s
    // Only the first pin in the walk's order can be fetched.
    new FakeIpfsConnector({ network }).addContent(cids[0]!)
    await turns(50)
    await clock.advance(1000)
    await turns(10)
    expect(connector.isPinned(cids[0]!)).toBe(true)
    connector.removePinBehindTheBack(cids[0]!)
    const lost = await tracker.status(cids[0]!)
    expect(lost.status).toBe('unexpectedly_unpinned')
    expect((await tracker.status(cids.at(-1)!)).status).toBe('pin_queued')
    expect(tracker.operationCount()).toBe(concurrentPins + backlog)
  })
})
