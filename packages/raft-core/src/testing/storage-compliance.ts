import { describe, expect, it } from 'vitest'
import type { LogStore } from '../storage/log-store.ts'
import type { SnapshotStore, StoredSnapshot } from '../storage/snapshot-store.ts'
import type { StableStore } from '../storage/stable-store.ts'
import type { Entry, EntryType, HardState, SnapshotMetadata } from '../types.ts'

/**
 * One opened store, as a compliance suite sees it. The optional members unlock the tests that
 * need them; a store that cannot offer one simply skips those tests.
 */
export interface StoreHarness<S> {
  readonly store: S
  /** Closes the store and releases whatever the harness made for it. */
  close(): Promise<void>
  /**
   * Closes the store and opens a new one on the same data, as a restarted process would. The
   * returned harness replaces this one (its `close` is the one to call from then on).
   */
  reopen?(): Promise<StoreHarness<S>>
  /** Makes the store's next write fail, as a full or broken disk would. */
  injectFailure?(): Promise<void> | void
}

export interface SnapshotStoreHarness extends StoreHarness<SnapshotStore> {
  reopen?(): Promise<SnapshotStoreHarness>
  /** Damages the stored data of snapshot `id` (flips a byte) without touching its metadata. */
  corrupt?(id: string): Promise<void>
  /** How many snapshots the store retains; the suite checks that it keeps exactly that many. */
  readonly retain: number
}

export type OpenStore<H> = () => Promise<H>

/** Runs `body` with a fresh store and closes whichever harness is current at the end. */
async function withStore<S, H extends StoreHarness<S>>(
  open: OpenStore<H>,
  body: (session: { readonly harness: H; reopen(): Promise<H> }) => Promise<void>,
): Promise<void> {
  let harness = await open()
  const session = {
    get harness() {
      return harness
    },
    async reopen(): Promise<H> {
      if (harness.reopen === undefined) throw new Error('the harness cannot reopen')
      harness = (await harness.reopen()) as H
      return harness
    },
  }
  try {
    await body(session)
  } finally {
    await harness.close()
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error(`rejected with a non-Error: ${String(error)}`)
  }
  throw new Error('expected a rejection, but the promise resolved')
}

const encoder = new TextEncoder()

/** Entry `index` of term `term`, with data that names both so that mix-ups show. */
export function testEntry(index: number, term: number, type: EntryType = 'normal'): Entry {
  return { index, term, type, data: encoder.encode(`entry ${index} of term ${term}`) }
}

function run(from: number, through: number, term: number): Entry[] {
  const entries: Entry[] = []
  for (let index = from; index <= through; index++) entries.push(testEntry(index, term))
  return entries
}

function plain(entries: readonly Entry[]) {
  return entries.map((entry) => ({
    index: entry.index,
    term: entry.term,
    type: entry.type,
    data: Array.from(entry.data),
  }))
}

async function expectLog(store: LogStore, expected: readonly Entry[]): Promise<void> {
  const first = expected[0]?.index ?? 0
  const last = expected.at(-1)?.index ?? 0
  expect(await store.firstIndex()).toBe(first)
  expect(await store.lastIndex()).toBe(last)
  if (expected.length > 0) {
    expect(plain(await store.entries(first, last + 1))).toEqual(plain(expected))
  }
}

/**
 * Checks every contract of `LogStore`: index bookkeeping, contiguity, conflicting suffixes,
 * truncation edge cases, range errors, copying, call-order of overlapping calls, and (when the
 * harness allows) persistence across reopen and fail-stop after a write failure.
 */
export function logStoreComplianceTests(
  name: string,
  open: OpenStore<StoreHarness<LogStore>>,
): void {
  describe(`${name} (LogStore compliance)`, () => {
    it('reports an empty log as first and last index 0', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        expect(await store.firstIndex()).toBe(0)
        expect(await store.lastIndex()).toBe(0)
        expect(await store.entries(1, 1)).toEqual([])
        expect((await rejection(store.entries(1, 2))).name).toBe('LogRangeError')
      })
    })

    it('stores contiguous appends and returns them in order', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 3, 1))
        await store.append([testEntry(4, 1, 'noop'), testEntry(5, 2, 'configuration')])
        await expectLog(store, [
          ...run(1, 3, 1),
          testEntry(4, 1, 'noop'),
          testEntry(5, 2, 'configuration'),
        ])
        expect(plain(await store.entries(2, 4))).toEqual(plain(run(2, 3, 1)))
      })
    })

    it('accepts an empty batch as a no-op', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append([])
        await expectLog(store, [])
        await store.append(run(1, 2, 1))
        await store.append([])
        await expectLog(store, run(1, 2, 1))
      })
    })

    it('starts an empty log at whatever index the first append brings', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(42, 44, 7))
        await expectLog(store, run(42, 44, 7))
      })
    })

    it('replaces a conflicting suffix, dropping every stored entry after the batch', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 6, 1))
        await store.append(run(3, 4, 2))
        await expectLog(store, [...run(1, 2, 1), ...run(3, 4, 2)])
        // Rewriting the same entries is allowed (a retried append).
        await store.append(run(3, 4, 2))
        await expectLog(store, [...run(1, 2, 1), ...run(3, 4, 2)])
        await store.append(run(1, 1, 3))
        await expectLog(store, run(1, 1, 3))
      })
    })

    it('rejects a batch that would leave a gap after the last entry, changing nothing', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 3, 1))
        const error = await rejection(store.append(run(5, 6, 1)))
        expect(error.name).toBe('LogRangeError')
        expect(error.message).toMatch(/gap/)
        await expectLog(store, run(1, 3, 1))
      })
    })

    it('rejects a batch whose entries are not contiguous, changing nothing', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 2, 1))
        for (const batch of [
          [testEntry(3, 1), testEntry(5, 1)],
          [testEntry(3, 1), testEntry(3, 1)],
          [testEntry(4, 1), testEntry(3, 1)],
        ]) {
          const error = await rejection(store.append(batch))
          expect(error.name).toBe('LogRangeError')
          expect(error.message).toMatch(/contiguous/)
        }
        await expectLog(store, run(1, 2, 1))
      })
    })

    it('rejects indexes that are not positive integers', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        for (const index of [0, -1, 1.5, Number.NaN]) {
          const error = await rejection(store.append([testEntry(index, 1)]))
          expect(error.name).toBe('LogRangeError')
        }
        await expectLog(store, [])
      })
    })

    it('rejects a batch that starts before the first stored entry after compaction', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 10, 1))
        await store.truncatePrefix(5)
        const error = await rejection(store.append(run(4, 6, 2)))
        expect(error.name).toBe('LogRangeError')
        expect(error.message).toMatch(/compacted/)
        await expectLog(store, run(6, 10, 1))
        // At the first stored index is fine.
        await store.append(run(6, 7, 2))
        await expectLog(store, run(6, 7, 2))
      })
    })

    it('truncateSuffix removes every entry from the given index on', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.truncateSuffix(1)
        await expectLog(store, [])
        await store.append(run(1, 10, 1))
        await store.truncateSuffix(11)
        await expectLog(store, run(1, 10, 1))
        await store.truncateSuffix(100)
        await expectLog(store, run(1, 10, 1))
        await store.truncateSuffix(8)
        await expectLog(store, run(1, 7, 1))
        await store.truncateSuffix(7)
        await expectLog(store, run(1, 6, 1))
        await store.append(run(7, 8, 2))
        await expectLog(store, [...run(1, 6, 1), ...run(7, 8, 2)])
        await store.truncateSuffix(1)
        await expectLog(store, [])
      })
    })

    it('truncateSuffix at or before the first entry of a compacted log empties it', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 10, 1))
        await store.truncatePrefix(4)
        await store.truncateSuffix(3)
        await expectLog(store, [])
        await store.append(run(20, 21, 3))
        await expectLog(store, run(20, 21, 3))
      })
    })

    it('truncatePrefix removes every entry up to and including the given index', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.truncatePrefix(5)
        await expectLog(store, [])
        await store.append(run(1, 10, 1))
        await store.truncatePrefix(0)
        await expectLog(store, run(1, 10, 1))
        await store.truncatePrefix(3)
        await expectLog(store, run(4, 10, 1))
        await store.truncatePrefix(2)
        await expectLog(store, run(4, 10, 1))
        await store.truncatePrefix(9)
        await expectLog(store, run(10, 10, 1))
        await store.append(run(11, 12, 1))
        await expectLog(store, run(10, 12, 1))
      })
    })

    it('an emptied log accepts an append at any index', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 10, 1))
        await store.truncatePrefix(10)
        await expectLog(store, [])
        await store.append(run(500, 501, 4))
        await expectLog(store, run(500, 501, 4))
        await store.truncatePrefix(1000)
        await expectLog(store, [])
        await store.append(run(3, 3, 5))
        await expectLog(store, run(3, 3, 5))
      })
    })

    it('rejects entries() ranges that are not stored with a LogRangeError', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.append(run(1, 10, 1))
        await store.truncatePrefix(3)
        for (const [low, high] of [
          [3, 5],
          [1, 11],
          [4, 12],
          [11, 12],
          [6, 5],
          [-1, 5],
        ] as const) {
          const error = await rejection(store.entries(low, high))
          expect(error.name, `entries(${low}, ${high})`).toBe('LogRangeError')
        }
        expect(plain(await store.entries(4, 11))).toEqual(plain(run(4, 10, 1)))
        expect(plain(await store.entries(10, 11))).toEqual(plain(run(10, 10, 1)))
        expect(await store.entries(6, 6)).toEqual([])
      })
    })

    it('copies entries in and out, so callers cannot change what is stored', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const batch = run(1, 2, 1)
        await store.append(batch)
        batch[0]!.data.fill(0)
        ;(batch as Entry[]).length = 0
        const read = await store.entries(1, 3)
        read[1]!.data.fill(0)
        read.pop()
        await expectLog(store, run(1, 2, 1))
      })
    })

    it('applies calls made without waiting in call order, each as one batch', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await Promise.all([
          store.append(run(1, 3, 1)),
          store.append(run(4, 6, 1)),
          store.truncateSuffix(5),
          store.append(run(5, 7, 2)),
          store.truncatePrefix(2),
          store.append(run(8, 8, 2)),
        ])
        await expectLog(store, [...run(3, 4, 1), ...run(5, 8, 2)])
        // A call that is invalid against the calls before it fails alone.
        const results = await Promise.allSettled([
          store.append(run(9, 9, 2)),
          store.append(run(11, 11, 2)),
          store.append(run(10, 10, 2)),
        ])
        expect(results.map((result) => result.status)).toEqual([
          'fulfilled',
          'rejected',
          'fulfilled',
        ])
        await expectLog(store, [...run(3, 4, 1), ...run(5, 10, 2)])
      })
    })

    it('keeps appends and truncations across a reopen', async (context) => {
      const probe = await open()
      const canReopen = probe.reopen !== undefined
      await probe.close()
      if (!canReopen) context.skip('the harness cannot reopen this store')
      await withStore(open, async (session) => {
        await session.harness.store.append(run(1, 20, 1))
        await session.harness.store.append(run(15, 16, 2))
        await session.harness.store.truncatePrefix(4)
        await session.harness.store.append(run(17, 17, 2))
        const expected = [...run(5, 14, 1), ...run(15, 17, 2)]
        await session.reopen()
        await expectLog(session.harness.store, expected)
        await session.harness.store.truncateSuffix(16)
        await session.reopen()
        await expectLog(session.harness.store, expected.slice(0, -2))
        await session.harness.store.truncatePrefix(100)
        await session.reopen()
        await expectLog(session.harness.store, [])
        await session.harness.store.append(run(300, 300, 9))
        await session.reopen()
        await expectLog(session.harness.store, run(300, 300, 9))
      })
    })

    it('fails stop after a write failure and keeps what it acknowledged', async (context) => {
      const probe = await open()
      const canFail = probe.injectFailure !== undefined
      await probe.close()
      if (!canFail) context.skip('the harness cannot inject a write failure')
      await withStore(open, async (session) => {
        const { store } = session.harness
        await store.append(run(1, 3, 1))
        await session.harness.injectFailure!()
        expect((await rejection(store.append(run(4, 4, 1)))).name).toBe('StorageFailedError')
        // Fail-stop: a later write must not succeed on the same handle, even if the cause is gone.
        expect((await rejection(store.append(run(4, 4, 1)))).name).toBe('StorageFailedError')
        expect((await rejection(store.truncateSuffix(2))).name).toBe('StorageFailedError')
        expect((await rejection(store.truncatePrefix(1))).name).toBe('StorageFailedError')
        if (session.harness.reopen === undefined) return
        await session.reopen()
        const reopened = session.harness.store
        expect(plain(await reopened.entries(1, 4))).toEqual(plain(run(1, 3, 1)))
        await reopened.append(run(4, 4, 2))
        await expectLog(reopened, [...run(1, 3, 1), ...run(4, 4, 2)])
      })
    })
  })
}

function hardState(term: number, vote: string | null, commit: number): HardState {
  return { term, vote, commit }
}

/** Checks every contract of `StableStore`, with persistence and fail-stop when offered. */
export function stableStoreComplianceTests(
  name: string,
  open: OpenStore<StoreHarness<StableStore>>,
): void {
  describe(`${name} (StableStore compliance)`, () => {
    it('loads undefined before anything was saved', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        expect(await store.load()).toBeUndefined()
      })
    })

    it('loads the last saved state', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        await store.save(hardState(1, 'node-a', 0))
        expect(await store.load()).toEqual(hardState(1, 'node-a', 0))
        await store.save(hardState(2, null, 5))
        expect(await store.load()).toEqual(hardState(2, null, 5))
        await store.save(hardState(2, 'node-é/ü', 2 ** 40))
        expect(await store.load()).toEqual(hardState(2, 'node-é/ü', 2 ** 40))
      })
    })

    it('copies the state in and out', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const saved = { term: 3, vote: 'node-b', commit: 7 }
        await store.save(saved)
        saved.term = 99
        const loaded = (await store.load()) as { term: number }
        loaded.term = 100
        expect(await store.load()).toEqual(hardState(3, 'node-b', 7))
      })
    })

    it('keeps the saved state across a reopen', async (context) => {
      const probe = await open()
      const canReopen = probe.reopen !== undefined
      await probe.close()
      if (!canReopen) context.skip('the harness cannot reopen this store')
      await withStore(open, async (session) => {
        await session.reopen()
        expect(await session.harness.store.load()).toBeUndefined()
        await session.harness.store.save(hardState(4, 'node-c', 9))
        await session.reopen()
        expect(await session.harness.store.load()).toEqual(hardState(4, 'node-c', 9))
        await session.harness.store.save(hardState(5, null, 9))
        await session.reopen()
        expect(await session.harness.store.load()).toEqual(hardState(5, null, 9))
      })
    })

    it('fails stop after a write failure and keeps what it acknowledged', async (context) => {
      const probe = await open()
      const canFail = probe.injectFailure !== undefined
      await probe.close()
      if (!canFail) context.skip('the harness cannot inject a write failure')
      await withStore(open, async (session) => {
        const { store } = session.harness
        await store.save(hardState(1, 'node-a', 1))
        await session.harness.injectFailure!()
        expect((await rejection(store.save(hardState(2, 'node-b', 1)))).name).toBe(
          'StorageFailedError',
        )
        expect((await rejection(store.save(hardState(2, 'node-b', 1)))).name).toBe(
          'StorageFailedError',
        )
        if (session.harness.reopen === undefined) return
        await session.reopen()
        const loaded = await session.harness.store.load()
        // The failed save was never acknowledged: either outcome is allowed, nothing else.
        expect([hardState(1, 'node-a', 1), hardState(2, 'node-b', 1)]).toContainEqual(loaded)
      })
    })
  })
}

const configuration = { voters: ['node-a', 'node-b', 'node-c'], nonVoters: [], staging: [] }

function metadata(index: number, term: number): SnapshotMetadata {
  return { index, term, configuration }
}

function bytes(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length)
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed * 7) & 0xff
  return data
}

async function writeSnapshot(
  store: SnapshotStore,
  index: number,
  term: number,
  chunks: readonly Uint8Array[] = [bytes(100, index)],
): Promise<StoredSnapshot> {
  const sink = await store.create(metadata(index, term))
  for (const chunk of chunks) await sink.write(chunk)
  return sink.close()
}

async function readAll(store: SnapshotStore, id: string): Promise<Uint8Array> {
  const opened = await store.open(id)
  const parts: Uint8Array[] = []
  for await (const chunk of opened.data) parts.push(chunk.slice())
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    all.set(part, offset)
    offset += part.byteLength
  }
  return all
}

function join(chunks: readonly Uint8Array[]): number[] {
  return chunks.flatMap((chunk) => Array.from(chunk))
}

function summary(snapshots: readonly StoredSnapshot[]) {
  return snapshots.map(({ index, term, size }) => ({ index, term, size }))
}

/**
 * Checks every contract of `SnapshotStore`: atomic publication, abort, order, retention,
 * unknown ids, copying, and (when the harness allows) persistence and corruption detection.
 */
export function snapshotStoreComplianceTests(
  name: string,
  open: OpenStore<SnapshotStoreHarness>,
): void {
  describe(`${name} (SnapshotStore compliance)`, () => {
    it('lists nothing when empty and rejects unknown ids with SnapshotNotFoundError', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        expect(await store.list()).toEqual([])
        expect((await rejection(store.open('no-such-snapshot'))).name).toBe('SnapshotNotFoundError')
      })
    })

    it('streams a written snapshot back with its metadata and size', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const chunks = Array.from({ length: 40 }, (_, i) => bytes(1000 + i, i))
        const stored = await writeSnapshot(store, 12, 3, chunks)
        const size = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
        expect(stored).toMatchObject({ index: 12, term: 3, size, configuration })
        expect(await store.list()).toEqual([stored])
        const opened = await store.open(stored.id)
        expect(opened.metadata).toEqual(stored)
        expect(Array.from(await readAll(store, stored.id))).toEqual(join(chunks))
      })
    })

    it('accepts an empty snapshot', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const stored = await writeSnapshot(store, 1, 1, [])
        expect(stored.size).toBe(0)
        expect((await readAll(store, stored.id)).byteLength).toBe(0)
      })
    })

    it('shows nothing of a snapshot before its sink is closed', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const sink = await store.create(metadata(5, 1))
        await sink.write(bytes(500, 1))
        expect(await store.list()).toEqual([])
        expect((await rejection(store.open(sink.id))).name).toBe('SnapshotNotFoundError')
        const stored = await sink.close()
        expect(stored.id).toBe(sink.id)
        expect((await store.list()).map((snapshot) => snapshot.id)).toEqual([sink.id])
      })
    })

    it('discards everything written when the sink is aborted', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const kept = await writeSnapshot(store, 3, 1)
        const sink = await store.create(metadata(9, 2))
        await sink.write(bytes(500, 2))
        await sink.abort()
        expect(await store.list()).toEqual([kept])
        expect((await rejection(store.open(sink.id))).name).toBe('SnapshotNotFoundError')
        await rejection(sink.write(bytes(10, 3)))
        await rejection(sink.close())
        expect(await store.list()).toEqual([kept])
      })
    })

    it('lists snapshots newest first by index, then term, whatever the order of creation', async () => {
      await withStore(open, async ({ harness }) => {
        const { store } = harness
        const created = [
          [20, 1],
          [10, 2],
          [20, 3],
        ].slice(0, Math.max(2, Math.min(3, harness.retain)))
        for (const [index, term] of created) await writeSnapshot(store, index!, term!)
        const expected = [...created].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]!)
        expect((await store.list()).map(({ index, term }) => [index, term])).toEqual(expected)
      })
    })

    it('retains only the configured number of newest snapshots', async () => {
      await withStore(open, async ({ harness }) => {
        const { store, retain } = harness
        const stored: StoredSnapshot[] = []
        for (let i = 1; i <= retain + 2; i++) stored.push(await writeSnapshot(store, i * 10, 1))
        const listed = await store.list()
        expect(listed.map((snapshot) => snapshot.index)).toEqual(
          stored
            .slice(2)
            .map((snapshot) => snapshot.index)
            .reverse(),
        )
        for (const dropped of stored.slice(0, 2)) {
          expect((await rejection(store.open(dropped.id))).name).toBe('SnapshotNotFoundError')
        }
      })
    })

    it('copies chunks and metadata, so callers cannot change what is stored', async () => {
      await withStore(open, async ({ harness: { store } }) => {
        const voters = ['node-a']
        const sink = await store.create({
          index: 7,
          term: 2,
          configuration: { voters, nonVoters: [], staging: [] },
        })
        const chunk = bytes(64, 9)
        await sink.write(chunk)
        chunk.fill(0)
        voters.push('node-z')
        const stored = await sink.close()
        expect(stored.configuration.voters).toEqual(['node-a'])
        ;(stored.configuration.voters as string[]).push('node-y')
        expect((await store.list())[0]!.configuration.voters).toEqual(['node-a'])
        expect(Array.from(await readAll(store, stored.id))).toEqual(Array.from(bytes(64, 9)))
      })
    })

    it('keeps closed snapshots, and only those, across a reopen', async (context) => {
      const probe = await open()
      const canReopen = probe.reopen !== undefined
      await probe.close()
      if (!canReopen) context.skip('the harness cannot reopen this store')
      await withStore(open, async (session) => {
        const first = await writeSnapshot(session.harness.store, 10, 1, [bytes(3000, 1)])
        const second = await writeSnapshot(session.harness.store, 20, 2, [bytes(5000, 2)])
        const unfinished = await session.harness.store.create(metadata(30, 3))
        await unfinished.write(bytes(100, 3))
        await session.reopen()
        const { store } = session.harness
        expect(summary(await store.list())).toEqual(summary([second, first]))
        expect((await store.list()).map((snapshot) => snapshot.configuration)).toEqual([
          configuration,
          configuration,
        ])
        expect(Array.from(await readAll(store, second.id))).toEqual(Array.from(bytes(5000, 2)))
        expect(Array.from(await readAll(store, first.id))).toEqual(Array.from(bytes(3000, 1)))
      })
    })

    it('never serves a snapshot whose data was damaged', async (context) => {
      const probe = await open()
      const canCorrupt = probe.corrupt !== undefined
      await probe.close()
      if (!canCorrupt) context.skip('the harness cannot damage a snapshot')
      await withStore(open, async ({ harness }) => {
        const good = await writeSnapshot(harness.store, 10, 1, [bytes(4000, 1)])
        const bad = await writeSnapshot(harness.store, 20, 1, [bytes(4000, 2)])
        await harness.corrupt!(bad.id)
        const listed = (await harness.store.list()).map((snapshot) => snapshot.id)
        const error = await rejection(readAll(harness.store, bad.id))
        // A store may drop the damaged snapshot from list(); if it still lists it, reading it
        // must say that it is corrupt rather than hand out wrong data.
        expect(
          listed.includes(bad.id)
            ? ['SnapshotCorruptError']
            : ['SnapshotCorruptError', 'SnapshotNotFoundError'],
        ).toContain(error.name)
        expect(listed).toContain(good.id)
        expect(Array.from(await readAll(harness.store, good.id))).toEqual(
          Array.from(bytes(4000, 1)),
        )
      })
    })

    it('fails stop after a write failure and keeps what it published', async (context) => {
      const probe = await open()
      const canFail = probe.injectFailure !== undefined
      await probe.close()
      if (!canFail) context.skip('the harness cannot inject a write failure')
      await withStore(open, async (session) => {
        const { store } = session.harness
        const kept = await writeSnapshot(store, 10, 1)
        await session.harness.injectFailure!()
        const failed = await rejection(writeSnapshot(store, 20, 1))
        expect(failed.name).toBe('StorageFailedError')
        expect((await rejection(writeSnapshot(store, 30, 1))).name).toBe('StorageFailedError')
        expect(summary(await store.list())).toEqual(summary([kept]))
        if (session.harness.reopen === undefined) return
        await session.reopen()
        expect(summary(await session.harness.store.list())).toEqual(summary([kept]))
      })
    })
  })
}
