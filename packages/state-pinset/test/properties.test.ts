import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Operation, PinInput, PinOperation, UnpinOperation } from '../src/index.ts'
import { createPinsetState, decodeOperation, encodeOperation, parseCid } from '../src/index.ts'
import {
  chunked,
  cidOf,
  cidV0,
  cidV1,
  listCids,
  peerOf,
  rsaPeerOf,
  snapshotBytes,
} from './fixtures.ts'

const cids = [
  cidV0,
  cidV1,
  ...Array.from({ length: 10 }, (_, n) => cidOf(n).toString()),
  parseCid(cidV0).toV1().toString(),
]
const peers = [peerOf(1), peerOf(2), peerOf(3), rsaPeerOf(4), rsaPeerOf(5)]

const replication = fc.constantFrom<[number, number]>(
  [0, 0],
  [-1, -1],
  [1, 1],
  [2, 3],
  [0, 2],
  [3, 0],
)
const time = fc.option(fc.integer({ min: -62167219200000, max: 253402300799999 }), { nil: null })

const pinInput: fc.Arbitrary<PinInput> = fc
  .record({
    cid: fc.constantFrom(...cids),
    name: fc.constantFrom('', 'a', 'backup', 'ünï 📌'),
    allocations: fc.subarray(peers),
    userAllocations: fc.subarray(peers),
    replication,
    maxDepth: fc.constantFrom(-1, 0, 3),
    shardSize: fc.constantFrom(0, 1, 1 << 20, Number.MAX_SAFE_INTEGER),
    expireAt: time,
    timestamp: time,
    metadata: fc.dictionary(
      fc.constantFrom('a', 'b', 'zé', '__proto__'),
      fc.string({ maxLength: 4 }),
      { maxKeys: 3 },
    ),
    origins: fc.subarray(['/ip4/1.2.3.4/tcp/4001', `/dns4/x.example/tcp/1/p2p/${peers[0]}`]),
  })
  .map(({ replication: [min, max], ...pin }) => ({
    ...pin,
    replicationFactorMin: min,
    replicationFactorMax: max,
  }))

const requestId = fc.option(fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'), { nil: undefined })

const item: fc.Arbitrary<PinOperation | UnpinOperation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      { type: fc.constant('pin' as const), pin: pinInput, requestId },
      { requiredKeys: ['type', 'pin'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { type: fc.constant('unpin' as const), cid: fc.constantFrom(...cids), requestId },
      { requiredKeys: ['type', 'cid'] },
    ),
  },
)

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: item },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        type: fc.constant('batch' as const),
        operations: fc.array(item, { maxLength: 4 }),
        requestId,
      },
      { requiredKeys: ['type', 'operations'] },
    ),
  },
)

function applyEntries(
  state: ReturnType<typeof createPinsetState>,
  entries: readonly Uint8Array[],
  from = 0,
) {
  return entries.map((data, offset) => state.apply({ index: from + offset + 1, term: 1, data }))
}

describe('properties', () => {
  it('every replica applying the same log, from the start or from a snapshot, holds the same pins and writes the same snapshot', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: 1, max: 64 }),
        async (operations, cut, chunkSize) => {
          const entries = operations.map(encodeOperation)
          const split = entries.length === 0 ? 0 : cut % (entries.length + 1)
          const first = createPinsetState({ requestIdCapacity: 4 })
          const second = createPinsetState({ requestIdCapacity: 4 })
          const results = applyEntries(first, entries)
          expect(applyEntries(second, entries)).toEqual(results)

          const early = createPinsetState({ requestIdCapacity: 4 })
          applyEntries(early, entries.slice(0, split))
          const late = createPinsetState()
          await late.restore(chunked(await snapshotBytes(early), chunkSize))
          expect(applyEntries(late, entries.slice(split), split)).toEqual(results.slice(split))

          const bytes = await snapshotBytes(first)
          expect(await snapshotBytes(second)).toEqual(bytes)
          expect(await snapshotBytes(late)).toEqual(bytes)
          expect(await listCids(late)).toEqual(await listCids(first))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('snapshot → restore is the identity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 30 }), async (operations) => {
        const state = createPinsetState()
        applyEntries(state, operations.map(encodeOperation))
        const copy = createPinsetState()
        const bytes = await snapshotBytes(state)
        await copy.restore(chunked(bytes, 13))
        expect(await snapshotBytes(copy)).toEqual(bytes)
        for await (const pin of state.list()) expect(copy.get(pin.cid)).toEqual(pin)
        expect(copy.count()).toBe(state.count())
      }),
      { numRuns: 60 },
    )
  })

  it('pins and unpins behave like a map of CID to pin', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (items) => {
        const state = createPinsetState({ requestIdCapacity: 0 })
        const model = new Map<string, PinInput>()
        for (const entry of items) {
          const [result] = applyEntries(state, [
            encodeOperation({ ...entry, requestId: undefined } as Operation),
          ])
          if (entry.type === 'pin') {
            const key = parseCid(entry.pin.cid).toString()
            expect(result!.kind).toEqual(
              model.has(key) ? expect.stringMatching(/^(updated|unchanged)$/) : 'pinned',
            )
            if (result!.kind !== 'unchanged') model.set(key, entry.pin)
          } else {
            const key = parseCid(entry.cid).toString()
            expect(result!.kind).toBe(model.has(key) ? 'unpinned' : 'absent')
            model.delete(key)
          }
        }
        expect(state.count()).toBe(model.size)
        for (const [key, pin] of model) expect(state.get(key)?.name).toBe(pin.name ?? '')
      }),
      { numRuns: 100 },
    )
  })

  it('encoding is canonical: decode then encode gives the same bytes', () => {
    fc.assert(
      fc.property(operation, (value) => {
        const bytes = encodeOperation(value)
        expect(encodeOperation(decodeOperation(bytes))).toEqual(bytes)
      }),
      { numRuns: 200 },
    )
  })

  it('corrupted entries never throw and leave every replica in the same state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { maxLength: 8 }),
        operation,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (setup, target, flips) => {
          const entries = setup.map(encodeOperation)
          const corrupted = encodeOperation(target).slice()
          for (const [at, value] of flips) corrupted[at % corrupted.length] = value
          const first = createPinsetState()
          const second = createPinsetState()
          applyEntries(first, entries)
          applyEntries(second, entries)
          const before = await snapshotBytes(first)
          const result = first.apply({ index: 99, term: 1, data: corrupted })
          expect(second.apply({ index: 99, term: 1, data: corrupted })).toEqual(result)
          const after = await snapshotBytes(first)
          expect(await snapshotBytes(second)).toEqual(after)
          if (result.kind === 'rejected') {
            expect(result.error.name).toBe('MalformedOperationError')
            expect(after).toEqual(before)
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
