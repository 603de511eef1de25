import { decodeOperation } from '@pinraft/state-pinset'
import { describe, expect, it } from 'vitest'
import { OperationBatcher } from '../src/proposals/operation-batcher.ts'

const cids = [
  'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
  'bafkreiaiq24be2iioasr6ftyaum3icmj7amtjkom2jeokov5k5ojwzhvqy',
]

describe('the operation batcher', () => {
  it('puts operations from separate I/O callbacks of one loop turn in one batch entry', async () => {
    const submitted: Uint8Array[] = []
    const batcher = new OperationBatcher(async (operation) => {
      submitted.push(operation)
      return submitted.length
    })
    // Two callbacks queued for the same phase, as two HTTP requests read in one poll.
    const indexes = await Promise.all(
      cids.map(
        (cid) =>
          new Promise<number>((resolve, reject) => {
            setImmediate(() => {
              batcher.enqueue({ type: 'pin', pin: { cid } }).then(resolve, reject)
            })
          }),
      ),
    )
    expect(submitted).toHaveLength(1)
    const batch = decodeOperation(submitted[0]!)
    expect(batch.type).toBe('batch')
    expect(indexes).toEqual([1, 1])
  })

  it('sends a lone operation as itself, not as a batch of one', async () => {
    const submitted: Uint8Array[] = []
    const batcher = new OperationBatcher(async (operation) => {
      submitted.push(operation)
      return 7
    })
    expect(await batcher.enqueue({ type: 'pin', pin: { cid: cids[0]! } })).toBe(7)
    expect(decodeOperation(submitted[0]!).type).toBe('pin')
  })
})
