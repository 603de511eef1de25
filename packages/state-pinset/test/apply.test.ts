import { describe, expect, it } from 'vitest'
import type { PinAddEventDetail, PinRemoveEventDetail } from '../src/index.ts'
import { createPinsetState, encodeOperation } from '../src/index.ts'
import { applyAll, cidOf, cidV0, cidV1, listCids, peerOf, snapshotBytes } from './fixtures.ts'

describe('apply', () => {
  it('pins a new CID, then reports an identical re-pin as unchanged', () => {
    const state = createPinsetState()
    const [first, second] = applyAll(
      state,
      { type: 'pin', pin: { cid: cidV1, allocations: [peerOf(1), peerOf(2)], timestamp: 1000 } },
      // Same pin, allocations in another order and a later timestamp: IPFS Cluster's Pin.Equals.
      { type: 'pin', pin: { cid: cidV1, allocations: [peerOf(2), peerOf(1)], timestamp: 2000 } },
    )
    expect(first).toMatchObject({ kind: 'pinned' })
    expect(second).toMatchObject({ kind: 'unchanged' })
    expect(state.get(cidV1)).toMatchObject({ allocations: [peerOf(1), peerOf(2)], timestamp: 1000 })
  })

  it('replaces a pin whose options changed', () => {
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: cidV1, name: 'a' } })
    expect(applyAll(state, { type: 'pin', pin: { cid: cidV1, name: 'b' } })[0]).toMatchObject({
      kind: 'updated',
    })
    expect(state.get(cidV1)?.name).toBe('b')
    expect(state.count()).toBe(1)
  })

  it('unpins, and treats unpinning an absent CID as no error', () => {
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: cidV0 } })
    const results = applyAll(state, { type: 'unpin', cid: cidV0 }, { type: 'unpin', cid: cidV0 })
    expect(results.map((result) => result.kind)).toEqual(['unpinned', 'absent'])
    expect(state.has(cidV0)).toBe(false)
    expect(state.count()).toBe(0)
  })

  it('applies a batch in order and reports each operation', async () => {
    const state = createPinsetState()
    const [result] = applyAll(state, {
      type: 'batch',
      operations: [
        { type: 'pin', pin: { cid: cidOf(1) } },
        { type: 'pin', pin: { cid: cidOf(2) } },
        { type: 'unpin', cid: cidOf(1) },
        { type: 'unpin', cid: cidOf(3) },
      ],
    })
    expect(result).toMatchObject({
      kind: 'batch',
      results: [{ kind: 'pinned' }, { kind: 'pinned' }, { kind: 'unpinned' }, { kind: 'absent' }],
    })
    expect(await listCids(state)).toEqual([cidOf(2).toString()])
  })

  it('rejects malformed bytes deterministically without changing anything', async () => {
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: cidV1 }, requestId: 'r' })
    const before = await snapshotBytes(state)
    const garbage = [
      new Uint8Array(0),
      Uint8Array.of(1),
      Uint8Array.of(1, 1, 0, 5, 1, 2),
      Uint8Array.of(9, 9, 9),
    ]
    for (const data of garbage) {
      const result = state.apply({ index: 10, term: 1, data })
      expect(result).toMatchObject({ kind: 'rejected', error: { name: 'MalformedOperationError' } })
      expect(createPinsetState().apply({ index: 10, term: 1, data })).toEqual(result)
    }
    expect(state.apply({ index: 11, term: 1, data: 'not bytes' as never })).toMatchObject({
      kind: 'rejected',
    })
    expect(await snapshotBytes(state)).toEqual(before)
  })

  describe('request ids', () => {
    it('skips a retried operation and says it was a duplicate', async () => {
      const state = createPinsetState()
      applyAll(state, { type: 'pin', pin: { cid: cidV1 }, requestId: 'client-1' })
      applyAll(state, { type: 'unpin', cid: cidV1 })
      const [retry] = applyAll(state, { type: 'pin', pin: { cid: cidV1 }, requestId: 'client-1' })
      expect(retry).toMatchObject({ kind: 'duplicate', requestId: 'client-1' })
      expect(state.has(cidV1)).toBe(false)
      expect(state.hasApplied('client-1')).toBe(true)
    })

    it('skips a whole retried batch, and retried items inside a batch', () => {
      const state = createPinsetState()
      applyAll(state, {
        type: 'batch',
        requestId: 'b',
        operations: [{ type: 'pin', pin: { cid: cidOf(1) }, requestId: 'i' }],
      })
      const [batch, inner] = applyAll(
        state,
        { type: 'batch', requestId: 'b', operations: [{ type: 'pin', pin: { cid: cidOf(2) } }] },
        {
          type: 'batch',
          operations: [
            { type: 'unpin', cid: cidOf(1), requestId: 'i' },
            { type: 'pin', pin: { cid: cidOf(3) } },
          ],
        },
      )
      expect(batch).toEqual({ kind: 'duplicate-batch', requestId: 'b' })
      expect(inner).toMatchObject({
        kind: 'batch',
        results: [{ kind: 'duplicate', requestId: 'i' }, { kind: 'pinned' }],
      })
      expect(state.has(cidOf(1))).toBe(true)
      expect(state.has(cidOf(2))).toBe(false)
    })

    it('remembers only the last N request ids, in apply order', () => {
      const state = createPinsetState({ requestIdCapacity: 2 })
      applyAll(
        state,
        { type: 'unpin', cid: cidV1, requestId: 'a' },
        { type: 'unpin', cid: cidV1, requestId: 'b' },
        { type: 'unpin', cid: cidV1, requestId: 'c' },
      )
      expect([state.hasApplied('a'), state.hasApplied('b'), state.hasApplied('c')]).toEqual([
        false,
        true,
        true,
      ])
      expect(
        applyAll(state, { type: 'pin', pin: { cid: cidV1 }, requestId: 'a' })[0],
      ).toMatchObject({ kind: 'pinned' })
      expect(state.hasApplied('b')).toBe(false)
    })

    it('records the request id of an operation that changed nothing', () => {
      const state = createPinsetState()
      applyAll(state, { type: 'unpin', cid: cidV1, requestId: 'x' })
      expect(applyAll(state, { type: 'unpin', cid: cidV1, requestId: 'x' })[0]).toMatchObject({
        kind: 'duplicate',
      })
    })
  })

  describe('events', () => {
    it('emits pin:add and pin:remove with the pins and the log index', () => {
      const state = createPinsetState()
      const added: PinAddEventDetail[] = []
      const removed: PinRemoveEventDetail[] = []
      state.addEventListener('pin:add', (event) => added.push(event.detail))
      state.addEventListener('pin:remove', (event) => removed.push(event.detail))
      state.apply({
        index: 7,
        term: 1,
        data: encodeOperation({ type: 'pin', pin: { cid: cidV1, name: 'one' } }),
      })
      state.apply({
        index: 8,
        term: 1,
        data: encodeOperation({ type: 'pin', pin: { cid: cidV1, name: 'one' } }),
      })
      state.apply({
        index: 9,
        term: 1,
        data: encodeOperation({ type: 'pin', pin: { cid: cidV1, name: 'two' } }),
      })
      state.apply({ index: 10, term: 1, data: encodeOperation({ type: 'unpin', cid: cidV1 }) })
      state.apply({ index: 11, term: 1, data: encodeOperation({ type: 'unpin', cid: cidV1 }) })
      expect(
        added.map((detail) => [detail.index, detail.pin.name, detail.previous?.name ?? null]),
      ).toEqual([
        [7, 'one', null],
        [9, 'two', 'one'],
      ])
      expect(removed.map((detail) => [detail.index, detail.pin.name])).toEqual([[10, 'two']])
    })
  })
})

describe('queries', () => {
  it('gets a pin by any spelling of its CID', () => {
    const state = createPinsetState()
    applyAll(state, { type: 'pin', pin: { cid: cidV1, name: 'x' } })
    const cid = state.get(cidV1)!.cid
    expect(state.get(cid.toString(/* base32 */))?.name).toBe('x')
    expect(state.get(cid.bytes)?.name).toBe('x')
    expect(state.get(cidOf(5))).toBeUndefined()
    expect(() => state.get('garbage')).toThrow(expect.objectContaining({ name: 'InvalidCidError' }))
  })

  it('lists pins in CID byte order, and pages with after', async () => {
    const state = createPinsetState()
    const cids = Array.from({ length: 300 }, (_, n) => cidOf(n))
    applyAll(state, ...cids.map((cid) => ({ type: 'pin' as const, pin: { cid } })))
    const sorted = [...cids].sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map(String)
    expect(await listCids(state)).toEqual(sorted)
    const after: string[] = []
    for await (const pin of state.list({ after: sorted[149]! })) after.push(pin.cid.toString())
    expect(after).toEqual(sorted.slice(150))
    expect(state.count()).toBe(300)
  })

  it('keeps listing in order when pins change during the listing', async () => {
    const state = createPinsetState()
    const cids = Array.from({ length: 2000 }, (_, n) => cidOf(n))
    applyAll(state, ...cids.map((cid) => ({ type: 'pin' as const, pin: { cid } })))
    const sorted = [...cids].sort((a, b) => Buffer.compare(a.bytes, b.bytes)).map(String)
    const seen: string[] = []
    for await (const pin of state.list()) {
      seen.push(pin.cid.toString())
      if (seen.length === 1000) {
        // Remove the next 100 and an earlier one: the listing goes on after the last CID it gave.
        applyAll(
          state,
          ...sorted.slice(1000, 1100).map((cid) => ({ type: 'unpin' as const, cid })),
          { type: 'unpin', cid: sorted[0]! },
        )
      }
    }
    expect(seen).toEqual([...sorted.slice(0, 1000), ...sorted.slice(1100)])
  })

  it('stops an aborted listing', async () => {
    const state = createPinsetState()
    applyAll(
      state,
      { type: 'pin', pin: { cid: cidOf(1) } },
      { type: 'pin', pin: { cid: cidOf(2) } },
    )
    const controller = new AbortController()
    const listing = state.list({ signal: controller.signal })
    await listing.next()
    controller.abort()
    await expect(listing.next()).rejects.toThrow()
  })
})
