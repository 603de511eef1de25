import { ManualClock } from '@pinraft/raft-core'
import { describe, expect, it } from 'vitest'
import { allocate } from '../src/allocate.ts'
import { BalancedAllocator } from '../src/balanced-allocator.ts'
import { createDiskInformer, createNumpinInformer, createTagsInformer } from '../src/informers.ts'
import { metricToJson } from '../src/metric.ts'
import { type MetricsTransport, Monitor } from '../src/monitor.ts'

const clock = () => new ManualClock(1_700_000_000_000)

/** A monitor fed by real informers over fake IPFS nodes: peer → free bytes and group. */
async function monitorWith(
  time: ManualClock,
  peers: Record<string, { free: number; group?: string }>,
): Promise<Monitor> {
  const transport: MetricsTransport = { send: async () => {} }
  const monitor = new Monitor({
    peerId: 'self',
    informers: [],
    peers: async () => Object.keys(peers),
    transport,
    clock: time,
  })
  for (const [peer, { free, group }] of Object.entries(peers)) {
    const common = { peer, clock: time, metricTtl: 30_000 }
    const disk = createDiskInformer(
      {
        ...common,
        connector: { repoStat: async () => ({ repoSize: 100, storageMax: 100 + free }) },
      },
      'freespace',
    )
    for (const metric of await disk.getMetrics()) monitor.receive(metric)
    if (group !== undefined) {
      for (const metric of await createTagsInformer(common, { group }).getMetrics())
        monitor.receive(metric)
    }
  }
  return monitor
}

describe('balanced allocation', () => {
  it('chooses the peers with the most free space for replication-max 2', async () => {
    const monitor = await monitorWith(clock(), {
      a: { free: 10 },
      b: { free: 30 },
      c: { free: 20 },
    })
    const allocator = new BalancedAllocator({ allocateBy: ['freespace'] })
    expect(
      allocate(monitor, allocator, {
        current: [],
        replicationFactorMin: 1,
        replicationFactorMax: 2,
      }),
    ).toEqual(['b', 'c'])
  })

  it('places a pin with max 2 once in each of two tag groups', async () => {
    const monitor = await monitorWith(clock(), {
      eu1: { free: 50, group: 'eu' },
      eu2: { free: 40, group: 'eu' },
      us1: { free: 10, group: 'us' },
    })
    const allocator = new BalancedAllocator({ allocateBy: ['tag:group', 'freespace'] })
    const allocations = allocate(monitor, allocator, {
      current: [],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect([...allocations].sort()).toEqual(['eu1', 'us1'])
  })

  it('groups a tag’s peers even when their IDs interleave with the other group’s', async () => {
    // Sorted by peer ID the groups alternate (a eu, b us, c eu, d us): one partition per group
    // still, so max 2 lands once in each, the freest of each group.
    const monitor = await monitorWith(clock(), {
      a: { free: 10, group: 'eu' },
      b: { free: 10, group: 'us' },
      c: { free: 30, group: 'eu' },
      d: { free: 40, group: 'us' },
    })
    const allocator = new BalancedAllocator({ allocateBy: ['tag:group', 'freespace'] })
    const allocations = allocate(monitor, allocator, {
      current: [],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect([...allocations].sort()).toEqual(['c', 'd'])
  })

  it('tries the tag group with more free space first, as 1.x orders equal partitions', async () => {
    // "us" holds 70 free against "eu"'s 40, whatever the peer IDs: with max 1 it wins, and the
    // next choice is the other group.
    const monitor = await monitorWith(clock(), {
      a: { free: 30, group: 'eu' },
      b: { free: 10, group: 'eu' },
      y: { free: 35, group: 'us' },
      z: { free: 35, group: 'us' },
    })
    const allocator = new BalancedAllocator({ allocateBy: ['tag:group', 'freespace'] })
    const one = allocate(monitor, allocator, {
      current: [],
      replicationFactorMin: 1,
      replicationFactorMax: 1,
    })
    expect(one).toEqual(['y'])
    const two = allocate(monitor, allocator, {
      current: [],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    expect(two).toEqual(['y', 'a'])
  })

  it('puts user allocations first and keeps current allocations on a re-pin', async () => {
    const monitor = await monitorWith(clock(), {
      a: { free: 10 },
      b: { free: 30 },
      c: { free: 20 },
    })
    const allocator = new BalancedAllocator({ allocateBy: ['freespace'] })
    expect(
      allocate(monitor, allocator, {
        current: [],
        replicationFactorMin: 1,
        replicationFactorMax: 1,
        priority: ['a'],
      }),
    ).toEqual(['a'])
    expect(
      allocate(monitor, allocator, {
        current: ['a'],
        replicationFactorMin: 1,
        replicationFactorMax: 2,
      }),
    ).toEqual(['a'])
  })

  it('refuses replication-min above the peers available with 1.x’s message', async () => {
    const monitor = await monitorWith(clock(), { a: { free: 10 }, b: { free: 30 } })
    const allocator = new BalancedAllocator({ allocateBy: ['freespace'] })
    let caught: unknown
    try {
      allocate(monitor, allocator, {
        current: [],
        replicationFactorMin: 5,
        replicationFactorMax: 5,
      })
    } catch (error) {
      caught = error
    }
    expect((caught as Error).name).toBe('AllocationError')
    expect((caught as Error).message).toBe(
      'not enough peers to allocate CID. Needed at least: 5. Wanted at most: 5. Available candidates: 2. See logs for more info.',
    )
  })

  it('means everywhere for -1/-1: no allocations', async () => {
    const monitor = await monitorWith(clock(), { a: { free: 10 } })
    const allocator = new BalancedAllocator({ allocateBy: ['freespace'] })
    expect(
      allocate(monitor, allocator, {
        current: [],
        replicationFactorMin: -1,
        replicationFactorMax: -1,
      }),
    ).toEqual([])
  })

  it('leaves out a peer whose metrics expired', async () => {
    const time = clock()
    const monitor = await monitorWith(time, { a: { free: 10 }, b: { free: 30 } })
    await time.advance(31_000)
    const allocator = new BalancedAllocator({ allocateBy: ['freespace'] })
    expect(() =>
      allocate(monitor, allocator, {
        current: [],
        replicationFactorMin: 1,
        replicationFactorMax: 1,
      }),
    ).toThrow(/Available candidates: 0/)
  })
})

describe('monitor', () => {
  it('raises one alert when a peer’s ping expires, none while it keeps pinging', async () => {
    const time = clock()
    const monitor = new Monitor(
      {
        peerId: 'self',
        informers: [],
        peers: async () => ['self', 'other'],
        transport: { send: async () => {} },
        clock: time,
      },
      { pingInterval: 15_000, checkInterval: 15_000 },
    )
    const ping = () => ({
      name: 'ping',
      peer: 'other',
      value: '',
      expire: time.now() + 30_000,
      valid: true,
      weight: 0,
      partitionable: false,
      receivedAt: 0,
    })
    for (let round = 0; round < 4; round++) {
      monitor.receive(ping())
      await time.advance(15_000)
      expect(monitor.check()).toEqual([])
    }
    await time.advance(60_000)
    const alerts = monitor.check()
    expect(alerts.map((alert) => alert.metric.peer)).toEqual(['other'])
    expect(monitor.check()).toEqual([])
    expect(monitor.alerts()).toHaveLength(1)
  })

  it('sends its ping and informer metrics to every other member', async () => {
    const time = clock()
    const sent: string[] = []
    const monitor = new Monitor({
      peerId: 'self',
      informers: [
        createTagsInformer({ peer: 'self', clock: time, metricTtl: 30_000 }, { group: 'eu' }),
      ],
      peers: async () => ['self', 'x', 'y'],
      transport: {
        send: async (peer, metrics) => {
          sent.push(`${peer}:${metrics.map((m) => m.name).join(',')}`)
        },
      },
      clock: time,
    })
    await monitor.publish()
    expect(sent.sort()).toEqual(['x:ping,tag:group', 'y:ping,tag:group'])
    expect(monitor.metricNames()).toEqual(['ping', 'tag:group'])
  })

  it('publishes every TTL/2 when an informer’s metric lives shorter than two ping intervals', async () => {
    const time = clock()
    let publications = 0
    const monitor = new Monitor(
      {
        peerId: 'self',
        informers: [
          createNumpinInformer({
            peer: 'self',
            clock: time,
            metricTtl: 10_000,
            countPins: async () => 3,
          }),
        ],
        peers: async () => ['self', 'other'],
        transport: {
          send: async () => {
            publications++
          },
        },
        clock: time,
      },
      { pingInterval: 15_000, checkInterval: 15_000 },
    )
    monitor.start()
    try {
      for (let step = 0; step < 30; step++) await time.advance(1000)
      // At 0 s, then every 5 s (10 s TTL / 2), not every 15 s: 0, 5, 10, …, 30.
      expect(publications).toBe(7)
      expect(monitor.latestMetrics('numpin')).toHaveLength(1)
    } finally {
      monitor.stop()
    }
  })

  it('carries its ping value, and forgets a peer that left the members', async () => {
    const time = clock()
    let members = ['self', 'gone']
    const monitor = new Monitor({
      peerId: 'self',
      informers: [],
      peers: async () => members,
      transport: { send: async () => {} },
      pingValue: async () => '{"peer_name":"self"}',
      clock: time,
    })
    monitor.receive({
      name: 'ping',
      peer: 'gone',
      value: '',
      expire: time.now() + 60_000,
      valid: true,
      weight: 0,
      partitionable: false,
      receivedAt: 0,
    })
    await monitor.publish()
    expect(monitor.latestMetrics('ping').map((metric) => [metric.peer, metric.value])).toEqual([
      ['gone', ''],
      ['self', '{"peer_name":"self"}'],
    ])
    members = ['self']
    await monitor.publish()
    expect(monitor.latestMetrics('ping').map((metric) => metric.peer)).toEqual(['self'])
  })

  it('writes 1.x’s Metric JSON', () => {
    expect(
      metricToJson({
        name: 'freespace',
        peer: 'p',
        value: '10',
        expire: 2,
        valid: true,
        weight: 10,
        partitionable: false,
        receivedAt: 1,
      }),
    ).toBe(
      '{"name":"freespace","peer":"p","value":"10","expire":2000000,"valid":true,"weight":10,"partitionable":false,"received_at":1000000}',
    )
  })

  it('writes an empty value too, as 1.x’s JSON tags have no omitempty', () => {
    const json = metricToJson({
      name: 'freespace',
      peer: 'p',
      value: '',
      expire: 2,
      valid: false,
      weight: 0,
      partitionable: false,
      receivedAt: 0,
    })
    expect(JSON.parse(json)).toHaveProperty('value', '')
  })
})
