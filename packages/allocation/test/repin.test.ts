import { ManualClock } from '@pinraft/raft-core'
import { validatePin } from '@pinraft/state-pinset'
import { describe, expect, it } from 'vitest'
import { BalancedAllocator } from '../src/balanced-allocator.ts'
import type { Metric } from '../src/metric.ts'
import { Monitor } from '../src/monitor.ts'
import { planReallocations } from '../src/repin.ts'

const a = '12D3KooWSFveoqY6fzB68vq78HEZS5u2AZjK6GauwndmjrfTZnn3'
const b = '12D3KooWJ51RJamauKDKqRFu5fW5qmUX59wVwJMtt8MFXmqmyPsW'
const c = '12D3KooWAXjPaeXdhsFwmwu9Ug2FzoksM1VNeW5VPwc3crXg2VmE'
const dead = '12D3KooWBDofovmYsTboGiC1pyCtima35CgfeWRpeAVVhAEaMvgc'
const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

function freespace(peer: string, free: number, now: number): Metric {
  return {
    name: 'freespace',
    peer,
    value: String(free),
    expire: now + 30_000,
    valid: true,
    weight: free,
    partitionable: false,
    receivedAt: 0,
  }
}

async function* list(...pins: ReturnType<typeof validatePin>[]) {
  yield* pins
}

describe('planReallocations', () => {
  it('moves a lost peer’s pin to another peer, never back to the lost one', async () => {
    const clock = new ManualClock(1_000)
    const monitor = new Monitor({
      peerId: a,
      informers: [],
      peers: async () => [],
      transport: { send: async () => {} },
      clock,
    })
    for (const [peer, free] of [
      [a, 10],
      [b, 20],
      [c, 30],
      [dead, 99],
    ] as const)
      monitor.receive(freespace(peer, free, clock.now()))
    const pin = validatePin({
      cid,
      allocations: [a, dead],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    const kept = validatePin({
      cid,
      allocations: [a, b],
      replicationFactorMin: 2,
      replicationFactorMax: 2,
    })
    const plans = []
    for await (const plan of planReallocations(
      list(pin, kept),
      dead,
      monitor,
      new BalancedAllocator({ allocateBy: ['freespace'] }),
    ))
      plans.push(plan.allocations)
    expect(plans).toEqual([[a, c]])
  })
})
