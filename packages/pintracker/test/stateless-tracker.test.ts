import type { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeIpfsConnector } from '../src/testing/index.ts'
import {
  availableContent,
  contentCid,
  otherId,
  type Setup,
  selfId,
  setup,
  start,
} from './support.ts'

let current: Setup[] = []

async function tracked(options: Parameters<typeof setup>[0] = {}): Promise<Setup> {
  const result = await setup(options)
  current.push(result)
  return result
}

afterEach(async () => {
  for (const entry of current) await entry.tracker.stop()
  current = []
})

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const values: T[] = []
  for await (const value of iterable) values.push(value)
  return values
}

describe('StatelessTracker', () => {
  it('moves a new pin through pin_queued and pinning to pinned, concurrent_pins at a time', async () => {
    const { clock, network, group, tracker, connector } = await tracked({
      configuration: { concurrentPins: 1 },
    })
    const first = await availableContent(network, 'first')
    const second = await availableContent(network, 'second')
    group.pin({ cid: first, name: 'one', timestamp: start })
    group.pin({ cid: second, name: 'two', timestamp: start })

    const pinning = await tracker.status(first)
    expect(pinning).toMatchObject({
      status: 'pinning',
      name: 'one',
      attemptCount: 1,
      priorityPin: true,
      peer: selfId,
      peername: 'peer-one',
      error: '',
      timestamp: start,
    })
    expect(pinning.ipfsPeerId).toMatch(/^12D3KooWFakeIpfsNode/)
    expect((await tracker.status(second)).status).toBe('pin_queued')
    expect(tracker.pinQueueSize()).toBe(1)

    await clock.advance(1000)
    const pinned = await tracker.status(first)
    // Finished: the operation is forgotten and the status comes from IPFS, stamped with the pin's time.
    expect(pinned).toMatchObject({
      status: 'pinned',
      attemptCount: 0,
      timestamp: start,
      created: start,
    })
    expect((await tracker.status(second)).status).toBe('pinning')
    await clock.advance(1000)
    expect((await tracker.status(second)).status).toBe('pinned')
    expect(connector.maxInFlight).toBe(1)
    expect(tracker.operationCount()).toBe(0)
  })

  it('answers unpinned for a CID that is not in the pinset', async () => {
    const { clock, tracker } = await tracked()
    await clock.advance(5000)
    const info = await tracker.status(await contentCid('never pinned'))
    expect(info).toMatchObject({
      status: 'unpinned',
      name: '',
      created: null,
      timestamp: start + 5000,
      error: '',
      attemptCount: 0,
    })
  })

  it('shows a pin removed behind its back as unexpectedly_unpinned, and recover pins it again', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'lost')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    expect((await tracker.status(cid)).status).toBe('pinned')

    connector.removePinBehindTheBack(cid)
    const lost = await tracker.status(cid)
    expect(lost).toMatchObject({
      status: 'unexpectedly_unpinned',
      error: 'the item should be pinned but it is not',
    })
    const [listed] = await collect(tracker.statusAll())
    expect(listed?.status).toBe('unexpectedly_unpinned')

    const recovering = await tracker.recover(cid)
    expect(recovering.status).toBe('pinning')
    await clock.advance(1000)
    expect((await tracker.status(cid)).status).toBe('pinned')
    expect(connector.isPinned(cid)).toBe(true)
  })

  it('re-pins what IPFS lost at the next state sync, without being asked', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'synced')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    connector.removePinBehindTheBack(cid)
    await clock.advance(5 * 60_000 - 1000)
    await clock.advance(1000)
    expect(connector.isPinned(cid)).toBe(true)
    expect((await tracker.status(cid)).status).toBe('pinned')
  })

  it('turns unreachable content into pin_error after pin_timeout, and recover retries it', async () => {
    const { clock, network, group, tracker, connector } = await tracked({ pinTimeout: 60_000 })
    const cid = await contentCid('nobody has it')
    group.pin({ cid, timestamp: start })
    expect((await tracker.status(cid)).status).toBe('pinning')
    await clock.advance(59_999)
    expect((await tracker.status(cid)).status).toBe('pinning')
    await clock.advance(1)
    const failed = await tracker.status(cid)
    expect(failed.status).toBe('pin_error')
    expect(failed.error).toContain('timed out')
    expect(failed.attemptCount).toBe(1)
    expect(failed.timestamp).toBe(start + 60_000)
    expect(await collect(tracker.statusAll({ filter: new Set(['pin_error']) }))).toHaveLength(1)

    const retried = await tracker.recover(cid)
    expect(retried.status).toBe('pinning')
    // The attempt count is kept across retries of the same operation.
    expect(retried.attemptCount).toBe(2)
    new FakeIpfsConnector({ network }).addContent(cid)
    await clock.advance(1000)
    expect((await tracker.status(cid)).status).toBe('pinned')
    expect(connector.calls.filter((call) => call.method === 'pin')).toHaveLength(2)
  })

  it('retries failed pins at pin_recover_interval', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'flaky')
    connector.failNextPin(new Error('ipfs: connection refused'))
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    expect(await tracker.status(cid)).toMatchObject({
      status: 'pin_error',
      error: 'ipfs: connection refused',
    })
    // A state sync (5m) does not retry errors: they wait for the recover pass (12m).
    await clock.advance(5 * 60_000)
    expect((await tracker.status(cid)).status).toBe('pin_error')
    await clock.advance(7 * 60_000 + 1000)
    expect((await tracker.status(cid)).status).toBe('pinned')
  })

  it('logs no INFO line per pin when a restart re-pins what it lost (issue 17)', async () => {
    const first = await tracked()
    const cids = [
      await availableContent(first.network, 'quiet a'),
      await availableContent(first.network, 'quiet b'),
    ]
    for (const cid of cids) first.group.pin({ cid, timestamp: start })
    await first.clock.advance(1000)
    await first.tracker.stop()
    const lines: { level: string; message: string }[] = []
    const record =
      (level: string) =>
      (message: string): void => {
        lines.push({ level, message })
      }
    const logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    }
    const connector = new FakeIpfsConnector({ clock: first.clock, network: first.network })
    const restarted = await tracked({
      clock: first.clock,
      network: first.network,
      group: first.group,
      connector,
      logger,
    })
    await restarted.clock.advance(1000)
    expect(connector.pinCount).toBe(2)
    expect(lines.filter((line) => line.message === 'restarting pin operation')).toEqual([
      { level: 'debug', message: 'restarting pin operation' },
      { level: 'debug', message: 'restarting pin operation' },
    ])
    expect(lines.filter((line) => line.level === 'info')).toEqual([])
  })

  it('re-pins on start what the state says it must hold (a restarted peer)', async () => {
    const first = await tracked()
    const cids = [
      await availableContent(first.network, 'a'),
      await availableContent(first.network, 'b'),
    ]
    for (const cid of cids) first.group.pin({ cid, timestamp: start })
    await first.clock.advance(1000)
    await first.tracker.stop()

    // The peer comes back with an empty IPFS repository.
    const connector = new FakeIpfsConnector({
      clock: first.clock,
      network: first.network,
      pinDelay: 1000,
    })
    const restarted = await tracked({
      clock: first.clock,
      network: first.network,
      group: first.group,
      connector,
    })
    expect((await restarted.tracker.status(cids[0]!)).status).toMatch(/^pin(ning|_queued)$/)
    await restarted.clock.advance(1000)
    for (const cid of cids) expect((await restarted.tracker.status(cid)).status).toBe('pinned')
    expect(connector.pinCount).toBe(2)
  })

  it('unpins an unpinned CID: unpin_queued or unpinning, then unpinned', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'gone')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    const seen: string[] = []
    tracker.addEventListener('operation:change', (event) => seen.push(event.detail.status))
    group.unpin(cid)
    await clock.advance(0)
    expect(seen).toEqual(['unpin_queued', 'unpinning', 'unpinned'])
    expect((await tracker.status(cid)).status).toBe('unpinned')
    expect(connector.isPinned(cid)).toBe(false)
    expect(tracker.operationCount()).toBe(0)
  })

  it('cancels a running pin when the CID is unpinned', async () => {
    const { clock, group, tracker, connector } = await tracked()
    const cid = await contentCid('cancelled')
    group.pin({ cid, timestamp: start })
    expect((await tracker.status(cid)).status).toBe('pinning')
    group.unpin(cid)
    await clock.advance(0)
    expect((await tracker.status(cid)).status).toBe('unpinned')
    await clock.advance(200_000)
    expect(connector.isPinned(cid)).toBe(false)
  })

  it('reports a full queue as a clear pin_error instead of dropping the pin', async () => {
    const { network, group, tracker } = await tracked({
      configuration: { concurrentPins: 1, maxPinQueueSize: 1 },
    })
    const cids = [
      await availableContent(network, 'q1'),
      await availableContent(network, 'q2'),
      await availableContent(network, 'q3'),
    ]
    for (const cid of cids) group.pin({ cid, timestamp: start })
    expect((await tracker.status(cids[0]!)).status).toBe('pinning')
    expect((await tracker.status(cids[1]!)).status).toBe('pin_queued')
    const full = await tracker.status(cids[2]!)
    expect(full).toMatchObject({
      status: 'pin_error',
      error: 'pin/unpin operation queue is full. Try increasing max_pin_queue_size',
    })
    const third = group.pinset.get(cids[2]!)
    expect(() => tracker.track(third!)).toThrow(expect.objectContaining({ name: 'FullQueueError' }))
  })

  it('pins new pins before old ones and before pins retried too often', async () => {
    const { clock, network, group, tracker, connector } = await tracked({
      configuration: { concurrentPins: 1 },
    })
    const old1 = await availableContent(network, 'old1')
    const old2 = await availableContent(network, 'old2')
    const fresh = await availableContent(network, 'fresh')
    const dayAgo = start - 25 * 60 * 60 * 1000
    group.pin({ cid: old1, timestamp: dayAgo })
    group.pin({ cid: old2, timestamp: dayAgo })
    group.pin({ cid: fresh, timestamp: start })
    expect(await tracker.status(old2)).toMatchObject({ status: 'pin_queued', priorityPin: false })
    expect(await tracker.status(fresh)).toMatchObject({ status: 'pin_queued', priorityPin: true })
    await clock.advance(3000)
    expect(connector.calls.map((call) => call.cid)).toEqual([
      old1.toString(),
      fresh.toString(),
      old2.toString(),
    ])
  })

  it('loses priority after priority_pin_max_retries attempts', async () => {
    const { clock, group, tracker } = await tracked({
      configuration: { priorityPinMaxRetries: 1 },
      pinTimeout: 1000,
    })
    const cid = await contentCid('retried')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    expect(await tracker.status(cid)).toMatchObject({ status: 'pin_error', attemptCount: 1 })
    expect(await tracker.recover(cid)).toMatchObject({ priorityPin: true, attemptCount: 2 })
    await clock.advance(1000)
    expect(await tracker.recover(cid)).toMatchObject({ priorityPin: false, attemptCount: 3 })
  })

  it('unpins and reports remote a pin allocated to another peer only', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'elsewhere')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    expect(connector.isPinned(cid)).toBe(true)
    group.pin({
      cid,
      timestamp: start,
      allocations: [otherId],
      replicationFactorMin: 1,
      replicationFactorMax: 1,
    })
    await clock.advance(0)
    expect(connector.isPinned(cid)).toBe(false)
    expect((await tracker.status(cid)).status).toBe('remote')
    const [listed] = await collect(tracker.statusAll({ filter: new Set(['remote']) }))
    expect(listed?.cid.toString()).toBe(cid.toString())
  })

  it('pins a pin allocated everywhere (replication -1) or to this peer', async () => {
    const { clock, network, group, connector } = await tracked()
    const everywhere = await availableContent(network, 'everywhere')
    const here = await availableContent(network, 'here')
    group.pin({
      cid: everywhere,
      replicationFactorMin: -1,
      replicationFactorMax: -1,
      allocations: [otherId],
    })
    group.pin({
      cid: here,
      allocations: [otherId, selfId],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    await clock.advance(1000)
    expect(connector.isPinned(everywhere)).toBe(true)
    expect(connector.isPinned(here)).toBe(true)
  })

  it('reports cluster_error with the reason when the IPFS node cannot be asked', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'ipfs down')
    group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    connector.offline = new Error('connect ECONNREFUSED 127.0.0.1:5001')
    expect(await tracker.status(cid)).toMatchObject({
      status: 'cluster_error',
      error: 'connect ECONNREFUSED 127.0.0.1:5001',
    })
    await expect(collect(tracker.statusAll())).rejects.toThrow(
      'could not get pinset from IPFS: connect ECONNREFUSED 127.0.0.1:5001',
    )
  })

  it('counts a direct pin as pinned in statusAll from the pin lists alone', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cid = await availableContent(network, 'direct')
    group.pin({ cid, timestamp: start, mode: 'direct', maxDepth: 0 })
    await clock.advance(1000)
    const [listed] = await collect(tracker.statusAll())
    expect(listed?.status).toBe('pinned')
    // Found in the direct list: no per-CID question to IPFS.
    expect(connector.pinLsCidCalls).toBe(0)
    expect((await tracker.status(cid)).status).toBe('pinned')
  })

  it('streams statusAll in the pinset order, filtered', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cids: CID[] = []
    for (let i = 0; i < 20; i++) cids.push(await availableContent(network, `many ${i}`))
    for (const cid of cids) group.pin({ cid, timestamp: start })
    await clock.advance(2000)
    connector.removePinBehindTheBack(cids[3]!)
    const all = await collect(tracker.statusAll())
    expect(all).toHaveLength(20)
    const order: string[] = []
    for await (const pin of group.pinset.list()) order.push(pin.cid.toString())
    expect(all.map((info) => info.cid.toString())).toEqual(order)
    const lost = await collect(tracker.statusAll({ filter: new Set(['unexpectedly_unpinned']) }))
    expect(lost.map((info) => info.cid.toString())).toEqual([cids[3]!.toString()])
    const pinned = await collect(tracker.statusAll({ filter: new Set(['pinned']) }))
    expect(pinned).toHaveLength(19)
  })

  it('streams statusAll from the first pin while the IPFS pin list is still being read', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const cids: CID[] = []
    for (let i = 0; i < 8; i++) cids.push(await availableContent(network, `slow list ${i}`))
    for (const cid of cids) group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    connector.removePinBehindTheBack(cids[5]!)
    const expected = new Map<string, string>()
    for await (const pin of group.pinset.list()) {
      expected.set(
        pin.cid.toString(),
        pin.cid.equals(cids[5]!) ? 'unexpectedly_unpinned' : 'pinned',
      )
    }
    const order = [...expected.keys()]
    // An IPFS node whose whole pin list takes long: the walk must not wait for it.
    const release = connector.blockPinLs()
    const walk = tracker.statusAll()
    const first = await walk.next()
    expect(first.value?.cid.toString()).toBe(order[0])
    expect(first.value?.status).toBe(expected.get(order[0]!))
    expect(connector.pinLsCidCalls).toBe(1)
    const second = await walk.next()
    expect(second.value?.status).toBe(expected.get(order[1]!))
    release()
    const seen = new Map<string, string>([
      [first.value!.cid.toString(), first.value!.status],
      [second.value!.cid.toString(), second.value!.status],
    ])
    for await (const info of walk) seen.set(info.cid.toString(), info.status)
    expect(seen).toEqual(expected)
  })

  it('does not call a pin that finished during a statusAll walk unexpectedly_unpinned', async () => {
    const { clock, network, group, tracker } = await tracked()
    const cids: CID[] = []
    for (let i = 0; i < 6; i++) cids.push(await availableContent(network, `walk ${i}`))
    cids.sort((a, b) => Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)))
    const late = cids.pop()!
    for (const cid of cids) group.pin({ cid, timestamp: start })
    await clock.advance(1000)
    // The last CID in the pinset's order is still pinning when the IPFS pin list is read…
    group.pin({ cid: late, timestamp: start })
    const walk = tracker.statusAll()
    const first = await walk.next()
    expect(first.value?.cid.toString()).toBe(cids[0]!.toString())
    // …and done before the walk reaches it.
    await clock.advance(1000)
    const rest = new Map<string, string>()
    for await (const info of walk) rest.set(info.cid.toString(), info.status)
    expect(rest.get(late.toString())).toBe('pinned')
  })

  it('recoverAll retries every CID in error and reports those it retried', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const good = await availableContent(network, 'good')
    const bad = await availableContent(network, 'bad')
    group.pin({ cid: good, timestamp: start })
    await clock.advance(1000)
    connector.failNextPin(new Error('boom'), bad)
    group.pin({ cid: bad, timestamp: start })
    await clock.advance(1000)
    const recovered = await collect(tracker.recoverAll())
    expect(recovered.map((info) => [info.cid.toString(), info.status])).toEqual([
      [bad.toString(), 'pinning'],
    ])
    await clock.advance(1000)
    expect((await tracker.status(bad)).status).toBe('pinned')
  })

  it('reconciles after a snapshot restore: new pins pinned, removed ones stop', async () => {
    const { clock, network, group, tracker, connector } = await tracked()
    const kept = await availableContent(network, 'kept')
    const dropped = await contentCid('dropped, still pinning')
    const added = await availableContent(network, 'added by the snapshot')
    group.pin({ cid: kept, timestamp: start })
    group.pin({ cid: dropped, timestamp: start })
    await clock.advance(1000)
    expect((await tracker.status(dropped)).status).toBe('pinning')
    await group.restore([
      { cid: kept, timestamp: start },
      { cid: added, timestamp: start },
    ])
    // The restore's reconciliation reads the IPFS pin lists in the background first (real
    // time), so its pins start after the first advance has run out of due timers.
    await clock.advance(1000)
    await clock.advance(1000)
    expect((await tracker.status(added)).status).toBe('pinned')
    expect((await tracker.status(dropped)).status).toBe('unpinned')
    expect(connector.isPinned(kept)).toBe(true)
  })

  it('stops even while a reconciliation pass waits on a stuck IPFS node', async () => {
    const connector = new FakeIpfsConnector()
    const release = connector.blockPinLs()
    const { tracker } = await setup({ connector })
    // The first recover pass is now waiting for the pin list.
    const outcome = await Promise.race([
      tracker.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000)),
    ])
    release()
    expect(outcome).toBe('stopped')
  })

  it('stops following consensus and cancels its operations on stop', async () => {
    const { clock, group, tracker, connector } = await tracked()
    const cid = await contentCid('stopped')
    group.pin({ cid, timestamp: start })
    await tracker.stop()
    group.pin({ cid: await contentCid('after stop'), timestamp: start })
    await clock.advance(200_000)
    expect(connector.calls).toHaveLength(1)
    expect(() => tracker.untrack(cid)).toThrow(
      expect.objectContaining({ name: 'TrackerStoppedError' }),
    )
  })
})
