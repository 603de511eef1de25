import { memoryLogStore } from '@pinraft/raft-core'
import { testEntry } from '@pinraft/raft-core/testing'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { openRaftStorage } from '../src/index.ts'
import { temporaryDirectory } from './temporary-directory.ts'

type Step =
  | { kind: 'append'; back: number; count: number }
  | { kind: 'truncate-suffix'; back: number }
  | { kind: 'truncate-prefix'; ahead: number }
  | { kind: 'reopen' }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    back: fc.integer({ min: -1, max: 6 }),
    count: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('truncate-suffix' as const),
    back: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({
    kind: fc.constant('truncate-prefix' as const),
    ahead: fc.integer({ min: -1, max: 6 }),
  }),
  fc.constant({ kind: 'reopen' as const }),
)

it('behaves like the in-memory log for any sequence of calls, across reopens', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
      const directory = await temporaryDirectory()
      const model = memoryLogStore()
      let storage = await openRaftStorage({ directory: directory.path, checkInChildProcess: false })
      let term = 1
      try {
        for (const current of steps) {
          const last = await model.lastIndex()
          const first = await model.firstIndex()
          let call: (store: typeof model | typeof storage.logStore) => Promise<void>
          switch (current.kind) {
            case 'reopen':
              await storage.close()
              storage = await openRaftStorage({
                directory: directory.path,
                checkInChildProcess: false,
              })
              continue
            case 'append': {
              // back = -1 asks for a gap, which both must refuse the same way.
              const start = Math.max(1, last + 1 - current.back)
              const entries = Array.from({ length: current.count }, (_, i) =>
                testEntry(start + i, term),
              )
              term++
              call = (store) => store.append(entries)
              break
            }
            case 'truncate-suffix':
              call = (store) => store.truncateSuffix(Math.max(0, last + 1 - current.back))
              break
            case 'truncate-prefix':
              call = (store) => store.truncatePrefix(Math.max(0, first + current.ahead))
              break
          }
          const expected = await call(model).then(
            () => 'ok',
            (error: Error) => error.name,
          )
          const actual = await call(storage.logStore).then(
            () => 'ok',
            (error: Error) => error.name,
          )
          expect(actual).toBe(expected)
          const modelLast = await model.lastIndex()
          const modelFirst = await model.firstIndex()
          expect(await storage.logStore.firstIndex()).toBe(modelFirst)
          expect(await storage.logStore.lastIndex()).toBe(modelLast)
          if (modelLast > 0) {
            expect(await storage.logStore.entries(modelFirst, modelLast + 1)).toEqual(
              await model.entries(modelFirst, modelLast + 1),
            )
          }
        }
      } finally {
        await storage.close()
        await directory.remove()
      }
    }),
    { numRuns: 25, seed: 424 },
  )
})
