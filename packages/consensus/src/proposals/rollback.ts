import {
  cidKey,
  encodeOperation,
  type Pin,
  type PinInput,
  type PinsetState,
  validatePin,
} from '@pinraft/state-pinset'
import type { AbortOptions } from '../consensus-api.ts'

/** Operations per committed batch: bounded, so a large pinset is rolled back in many entries. */
const rollbackBatch = 1000

type BatchedOperation = { type: 'pin'; pin: Pin } | { type: 'unpin'; cid: string }

/**
 * Commits what turns `pinset` into `pins`: every pin of `pins`, then an unpin of every pin of
 * `pinset` missing from it, in batches committed through `commit`.
 */
export async function rollbackTo(
  pins: AsyncIterable<PinInput>,
  pinset: PinsetState,
  commit: (operation: Uint8Array, options?: AbortOptions) => Promise<unknown>,
  options?: AbortOptions,
): Promise<void> {
  const wanted = new Set<string>()
  let batch: BatchedOperation[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const operation = encodeOperation({
      type: 'batch',
      operations: batch,
      requestId: crypto.randomUUID(),
    })
    batch = []
    await commit(operation, options)
  }
  for await (const input of pins) {
    const pin = validatePin(input)
    wanted.add(cidKey(pin.cid))
    batch.push({ type: 'pin', pin })
    if (batch.length >= rollbackBatch) await flush()
  }
  for await (const pin of pinset.list(options)) {
    if (!wanted.has(cidKey(pin.cid))) {
      batch.push({ type: 'unpin', cid: pin.cid.toString() })
      if (batch.length >= rollbackBatch) await flush()
    }
  }
  await flush()
}
