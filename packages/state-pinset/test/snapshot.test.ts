import { describe, expect, it } from 'vitest'
import { crc32 } from '../src/encoding/crc32.ts'
import type { PinsetState } from '../src/index.ts'
import { createPinsetState, snapshotFormatVersion } from '../src/index.ts'
import {
  applyAll,
  chunked,
  cidOf,
  cidV0,
  cidV1,
  collect,
  listCids,
  peerOf,
  snapshotBytes,
} from './fixtures.ts'

function populated(count = 50): PinsetState {
  const state = createPinsetState()
  applyAll(
    state,
    ...Array.from({ length: count }, (_, n) => ({
      type: 'pin' as const,
      pin: {
        cid: cidOf(n),
        name: n % 3 === 0 ? `pin ${n}` : '',
        allocations: n % 4 === 0 ? [] : [peerOf(n % 5), peerOf((n + 1) % 5)],
        replicationFactorMin: n % 4 === 0 ? -1 : 2,
        replicationFactorMax: n % 4 === 0 ? -1 : 2,
        metadata: n % 5 === 0 ? { n: String(n) } : null,
        timestamp: 1_700_000_000_000 + n,
      },
      requestId: `request-${n}`,
    })),
  )
  applyAll(state, { type: 'pin', pin: { cid: cidV0, type: 'meta-pin', reference: cidV1 } })
  return state
}

async function restored(bytes: Uint8Array, chunkSize = 4096): Promise<PinsetState> {
  const state = createPinsetState()
  await state.restore(chunked(bytes, chunkSize))
  return state
}

async function restoreError(bytes: Uint8Array): Promise<Error> {
  const state = populated(3)
  const before = await snapshotBytes(state)
  const error = await state.restore(chunked(bytes, 1000)).then(
    () => null,
    (caught: Error) => caught,
  )
  if (error === null) throw new Error('restore accepted bad bytes')
  // A failed restore leaves the state as it was.
  expect(await snapshotBytes(state)).toEqual(before)
  return error
}

describe('snapshot and restore', () => {
  it('restores exactly what was snapshotted, empty or not', async () => {
    for (const state of [createPinsetState(), populated()]) {
      const bytes = await snapshotBytes(state)
      const copy = await restored(bytes)
      expect(await snapshotBytes(copy)).toEqual(bytes)
      expect(await listCids(copy)).toEqual(await listCids(state))
      expect(copy.count()).toBe(state.count())
      for await (const pin of state.list()) expect(copy.get(pin.cid)).toEqual(pin)
    }
  })

  it('restores from chunks split anywhere, down to single bytes', async () => {
    const bytes = await snapshotBytes(populated(20))
    expect(await snapshotBytes(await restored(bytes, 1))).toEqual(bytes)
    expect(await snapshotBytes(await restored(bytes, 7))).toEqual(bytes)
  })

  it('streams large pinsets in many bounded frames', async () => {
    const state = createPinsetState()
    applyAll(state, {
      type: 'batch',
      operations: Array.from({ length: 5000 }, (_, n) => ({
        type: 'pin' as const,
        pin: { cid: cidOf(n), allocations: [peerOf(n % 7)] },
      })),
    })
    const chunks = await collect(state.snapshot())
    expect(chunks.length).toBeGreaterThan(3)
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThan(70 * 1024)
    const copy = createPinsetState()
    await copy.restore(
      (async function* () {
        yield* chunks
      })(),
    )
    expect(copy.count()).toBe(5000)
  })

  it('depends on the pins alone, not on the history that made them', async () => {
    const forward = createPinsetState()
    const backward = createPinsetState()
    const pins = Array.from({ length: 30 }, (_, n) => ({
      type: 'pin' as const,
      pin: { cid: cidOf(n), allocations: [peerOf(n % 3), peerOf(9)] },
    }))
    applyAll(forward, ...pins)
    // Another order, with extra peers that come and go (the peer table differs inside).
    applyAll(backward, { type: 'pin', pin: { cid: cidV1, allocations: [peerOf(7), peerOf(8)] } })
    applyAll(backward, ...[...pins].reverse())
    applyAll(backward, { type: 'unpin', cid: cidV1 })
    expect(await snapshotBytes(backward)).toEqual(await snapshotBytes(forward))
  })

  it('carries the applied request ids, so a restored peer still skips retries', async () => {
    const copy = await restored(await snapshotBytes(populated(5)))
    expect(copy.hasApplied('request-3')).toBe(true)
    expect(
      applyAll(copy, { type: 'unpin', cid: cidOf(3), requestId: 'request-3' })[0],
    ).toMatchObject({ kind: 'duplicate' })
  })

  it('carries the request id capacity, which is part of the replicated state', async () => {
    const small = createPinsetState({ requestIdCapacity: 3 })
    const copy = await restored(await snapshotBytes(small))
    expect(copy.requestIdCapacity).toBe(3)
  })

  it('replaces the whole state and tells listeners', async () => {
    const state = populated(10)
    const counts: number[] = []
    state.addEventListener('state:restore', (event) => counts.push(event.detail.count))
    await state.restore(chunked(await snapshotBytes(createPinsetState()), 100))
    expect(state.count()).toBe(0)
    expect(state.hasApplied('request-1')).toBe(false)
    expect(counts).toEqual([0])
  })

  it('refuses a flipped byte anywhere with SnapshotCorruptError', async () => {
    const bytes = await snapshotBytes(populated(40))
    for (let at = 0; at < bytes.length; at += Math.max(1, Math.floor(bytes.length / 60))) {
      const bad = bytes.slice()
      bad[at]! ^= 0x20
      const error = await restoreError(bad)
      expect(['SnapshotCorruptError', 'SnapshotVersionError'], `byte ${at}`).toContain(error.name)
    }
  })

  it('refuses truncated snapshots and trailing bytes', async () => {
    const bytes = await snapshotBytes(populated(10))
    for (const length of [0, 5, 10, 20, bytes.length - 20, bytes.length - 1]) {
      expect((await restoreError(bytes.subarray(0, length))).name).toBe('SnapshotCorruptError')
    }
    expect((await restoreError(Uint8Array.of(...bytes, 0))).message).toContain(
      'follow the end frame',
    )
  })

  it('refuses records out of CID order even when the checksums match', async () => {
    const state = createPinsetState()
    applyAll(
      state,
      { type: 'pin', pin: { cid: cidOf(1) } },
      { type: 'pin', pin: { cid: cidOf(2) } },
    )
    const bytes = await snapshotBytes(state)
    // Skip the prefix and the header frame, then swap the two records of the pins frame.
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(11)
    const pinsAt = 10 + 5 + headerLength + 4
    expect(bytes[pinsAt]).toBe(2)
    const payload = bytes.subarray(
      pinsAt + 5,
      pinsAt + 5 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(pinsAt + 1),
    )
    expect(payload[0]).toBe(2)
    const firstLength = payload[1]!
    const first = payload.slice(1, 2 + firstLength)
    const second = payload.slice(2 + firstLength)
    payload.set(second, 1)
    payload.set(first, 1 + second.length)
    const checked = bytes.subarray(pinsAt, pinsAt + 5 + payload.length)
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(
      pinsAt + 5 + payload.length,
      crc32(checked),
    )
    expect((await restoreError(bytes)).message).toContain('strictly increasing CID order')
  })

  it('refuses data that is not a pinset snapshot', async () => {
    expect((await restoreError(new TextEncoder().encode('{"cid":"x"}\n'))).message).toContain(
      'magic',
    )
  })

  it('refuses a newer format version with SnapshotVersionError', async () => {
    const bytes = await snapshotBytes(populated(2))
    bytes[9] = snapshotFormatVersion + 1
    const error = await restoreError(bytes)
    expect(error.name).toBe('SnapshotVersionError')
    expect(error.message).toContain('upgrade')
  })

  it('detects an apply during the snapshot stream instead of writing a torn snapshot', async () => {
    const state = createPinsetState()
    applyAll(state, {
      type: 'batch',
      operations: Array.from({ length: 4000 }, (_, n) => ({
        type: 'pin' as const,
        pin: { cid: cidOf(n) },
      })),
    })
    const iterator = state.snapshot()[Symbol.asyncIterator]()
    await iterator.next()
    applyAll(state, { type: 'unpin', cid: cidOf(1) })
    await expect(collect({ [Symbol.asyncIterator]: () => iterator })).rejects.toMatchObject({
      name: 'StateChangedDuringSnapshotError',
    })
  })

  it('stops on abort, leaving the state as it was', async () => {
    const state = populated(5)
    const before = await snapshotBytes(state)
    const controller = new AbortController()
    controller.abort()
    await expect(
      state.restore(chunked(await snapshotBytes(createPinsetState()), 10), {
        signal: controller.signal,
      }),
    ).rejects.toThrow()
    await expect(collect(state.snapshot({ signal: controller.signal }))).rejects.toThrow()
    expect(await snapshotBytes(state)).toEqual(before)
  })
})
