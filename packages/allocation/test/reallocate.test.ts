import type { PinsetView } from '@pinraft/consensus'
import { ManualClock, silentLogger } from '@pinraft/raft-core'
import {
  createPinsetState,
  encodeOperation,
  type PinInput,
  validatePin,
} from '@pinraft/state-pinset'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { BalancedAllocator } from '../src/balanced-allocator.ts'
import { Monitor } from '../src/monitor.ts'
import { reallocatePeer } from '../src/reallocate.ts'

async function peerId(text: string): Promise<string> {
  return base58btc.baseEncode((await sha256.digest(new TextEncoder().encode(text))).bytes)
}

async function cid(text: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))
}

/** A pinset whose commits wait until the test releases them, counting those in flight. */
function heldConsensus() {
  const pinset = createPinsetState()
  let index = 0
  const apply = (input: PinInput) => {
    const pin = validatePin(input)
    pinset.apply({ index: ++index, term: 1, data: encodeOperation({ type: 'pin', pin }) })
    return pinset.get(pin.cid) ?? pin
  }
  const state: PinsetView = {
    get: (key) => pinset.get(key),
    has: (key) => pinset.has(key),
    count: () => pinset.count(),
    list: (options) => pinset.list(options),
  }
  const held: (() => void)[] = []
  const stats = { inFlight: 0, most: 0 }
  return {
    apply,
    held,
    stats,
    consensus: {
      state: () => state,
      logPin: async (input: PinInput) => {
        stats.inFlight++
        stats.most = Math.max(stats.most, stats.inFlight)
        await new Promise<void>((resolve) => held.push(resolve))
        stats.inFlight--
        return apply(input)
      },
    },
  }
}

describe('reallocatePeer', () => {
  it('commits the new allocations a bounded number at a time, skipping pins changed meanwhile', async () => {
    const [lost, a, b] = [await peerId('lost'), await peerId('a'), await peerId('b')]
    const clock = new ManualClock(1_700_000_000_000)
    const monitor = new Monitor({
      peerId: a,
      informers: [],
      peers: async () => [a, b],
      transport: { send: async () => {} },
      clock,
    })
    for (const [peer, free] of [
      [a, 10],
      [b, 20],
      [lost, 30],
    ] as const) {
      monitor.receive({
        name: 'freespace',
        peer,
        value: String(free),
        expire: clock.now() + 60_000,
        valid: true,
        weight: free,
        partitionable: false,
        receivedAt: 0,
      })
    }
    const { apply, held, stats, consensus } = heldConsensus()
    const cids: CID[] = []
    for (let i = 0; i < 10; i++) {
      cids.push(await cid(`pin ${i}`))
      apply({
        cid: cids[i]!,
        replicationFactorMin: 2,
        replicationFactorMax: 2,
        allocations: [lost, a],
        timestamp: 1000 + i,
      })
    }
    // Re-pinned by a user before the re-allocation reaches it (the last in the pinset's order):
    // that pin must be left as the user made it.
    let changed = cids[0]!
    for await (const pin of consensus.state().list()) changed = pin.cid
    const running = reallocatePeer(
      {
        consensus,
        metrics: monitor,
        allocator: new BalancedAllocator({ allocateBy: ['freespace'] }),
        logger: silentLogger,
        now: () => clock.now(),
      },
      lost,
      { onlyBelowMin: true, concurrency: 3 },
    )
    for (let round = 0; round < 1000; round++) {
      await new Promise((resolve) => setImmediate(resolve))
      if (round === 2)
        apply({
          cid: changed,
          replicationFactorMin: 1,
          replicationFactorMax: 1,
          allocations: [b],
          timestamp: 5000,
        })
      for (const release of held.splice(0)) release()
      if (stats.inFlight === 0 && round > 50) break
    }
    const result = await running
    expect(stats.most).toBeLessThanOrEqual(3)
    expect(stats.most).toBeGreaterThan(1)
    expect(result).toEqual({ moved: 9, failed: 0 })
    for (const key of cids.filter((entry) => !entry.equals(changed))) {
      expect([...consensus.state().get(key.toString())!.allocations].sort()).toEqual([a, b].sort())
    }
    expect(consensus.state().get(changed.toString())!.allocations).toEqual([b])
  })
})
