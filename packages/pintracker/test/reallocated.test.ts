import { describe, expect, it } from 'vitest'
import { availableContent, otherId, selfId, setup } from './support.ts'

/** Moves the fake clock until `check` holds (bounded: 100 rounds). */
async function settle(advance: () => Promise<void>, check: () => boolean): Promise<void> {
  for (let round = 0; round < 100 && !check(); round++) {
    await advance()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('a pin re-allocated while the tracker was not following', () => {
  it('is unpinned from the IPFS node when the tracker starts (no pinning beyond max)', async () => {
    const first = await setup({ pinDelay: 0 })
    const cid = await availableContent(first.network, 'moved while this peer was down')
    first.group.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 1,
      allocations: [selfId],
    })
    await settle(
      () => first.clock.advance(10),
      () => first.connector.isPinned(cid),
    )
    expect(first.connector.isPinned(cid)).toBe(true)
    await first.tracker.stop()
    // The leader moved it while this peer was down: no pin:add reaches the stopped tracker.
    first.group.pin({
      cid,
      replicationFactorMin: 1,
      replicationFactorMax: 1,
      allocations: [otherId],
    })
    const second = await setup({
      clock: first.clock,
      network: first.network,
      group: first.group,
      connector: first.connector,
    })
    try {
      await settle(
        () => first.clock.advance(10),
        () => !first.connector.isPinned(cid),
      )
      expect(first.connector.isPinned(cid)).toBe(false)
      expect((await second.tracker.status(cid)).status).toBe('remote')
    } finally {
      await second.tracker.stop()
    }
  })
})
