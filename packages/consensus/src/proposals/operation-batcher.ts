import { encodeOperation, type PinOperation, type UnpinOperation } from '@pinraft/state-pinset'
import type { AbortOptions } from '../consensus-api.ts'
import { OperationRejectedError, OutcomeUnknownError } from '../errors.ts'

/** Most operations forwarded or proposed together as one batch entry. */
const maxBatchOperations = 512
/**
 * Largest encoded operation: it must fit in one Raft append message (raft-core's default
 * maxBytesPerMessage is 1 MiB) with room to spare.
 */
const maxOperationBytes = 512 * 1024

interface QueuedOperation {
  operation: PinOperation | UnpinOperation
  resolve: (index: number) => void
  reject: (error: Error) => void
}

/**
 * Operations queued in the same turn of the event loop travel together as one batch entry (one
 * RPC to the leader, one log entry), each keeping its own request id. The batch closes in the
 * event loop's check phase (`setImmediate`), not on a microtask: requests that arrive in separate
 * I/O callbacks of one poll phase (64 HTTP clients, say) then share a batch too, where a
 * microtask would close one batch per request.
 */
export class OperationBatcher {
  private queued: QueuedOperation[] = []
  private flushScheduled = false
  private readonly submit: (operation: Uint8Array) => Promise<number>

  /** `submit` commits one encoded operation and returns the index it was applied at. */
  constructor(submit: (operation: Uint8Array) => Promise<number>) {
    this.submit = submit
  }

  /** Resolves with the index at which the batch holding `operation` was applied. */
  enqueue(operation: PinOperation | UnpinOperation, options?: AbortOptions): Promise<number> {
    options?.signal?.throwIfAborted()
    return new Promise<number>((resolve, reject) => {
      const signal = options?.signal
      const onAbort = () =>
        reject(
          new OutcomeUnknownError(
            'the operation was aborted by the caller; it may or may not have been applied',
          ),
        )
      signal?.addEventListener('abort', onAbort, { once: true })
      this.queued.push({
        operation,
        resolve: (index) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(index)
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort)
          reject(error)
        },
      })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.flushScheduled = false
    const queued = this.queued
    this.queued = []
    for (let start = 0; start < queued.length; start += maxBatchOperations) {
      this.submitBatch(queued.slice(start, start + maxBatchOperations))
    }
  }

  /** Encodes and submits queued operations as one entry, halving batches that are too large. */
  private submitBatch(chunk: QueuedOperation[]): void {
    const only = chunk[0]
    if (only === undefined) return
    const operation =
      chunk.length === 1
        ? encodeOperation(only.operation)
        : encodeOperation({
            type: 'batch',
            operations: chunk.map((item) => item.operation),
            requestId: crypto.randomUUID(),
          })
    if (operation.byteLength > maxOperationBytes) {
      if (chunk.length === 1) {
        only.reject(
          new OperationRejectedError(
            `the operation is ${operation.byteLength} bytes once encoded, more than the ${maxOperationBytes} a log entry may hold; shorten its metadata or name`,
          ),
        )
        return
      }
      const half = Math.ceil(chunk.length / 2)
      this.submitBatch(chunk.slice(0, half))
      this.submitBatch(chunk.slice(half))
      return
    }
    this.submit(operation).then(
      (index) => {
        for (const item of chunk) item.resolve(index)
      },
      (error: unknown) => {
        for (const item of chunk)
          item.reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  }
}
