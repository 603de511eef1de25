import type { Logger, Stream } from '@libp2p/interface'
import type { SnapshotMessage } from '@pinraft/raft-core'
import { FrameReader } from '../codec/frame-reader.ts'
import { toWireMessage } from '../codec/message-codec.ts'
import { SnapshotRejectedError, SnapshotTransferError } from '../errors.ts'
import * as pb from '../pb/raft.gen.ts'
import {
  decodeSnapshotResult,
  SNAPSHOT_CHUNK,
  SNAPSHOT_END,
  SNAPSHOT_HEADER,
  writeFrame,
} from './snapshot-frames.ts'

export interface SnapshotSendLimits {
  maxMessageSize: number
  snapshotChunkSize: number
  snapshotTimeout: number
}

/**
 * Streams one snapshot over `stream`: a header frame with the message, the data in chunks, an
 * end frame with the total size; then waits for the receiver's answer. Resolves once the
 * receiver stored the snapshot. On any failure the stream is reset (so the receiver discards
 * what it got) and the promise rejects: a `SnapshotRejectedError` when the receiver refused, a
 * `SnapshotTransferError` when the transfer broke off, or the signal's reason when aborted.
 */
export async function sendSnapshotOverStream(
  stream: Stream,
  message: SnapshotMessage,
  data: AsyncIterable<Uint8Array>,
  limits: SnapshotSendLimits,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const reader = new FrameReader(stream, {
    maxFrameSize: limits.maxMessageSize,
    highWaterMark: limits.maxMessageSize,
  })
  const timeout = limits.snapshotTimeout
  const description = `snapshot ${message.snapshot.index}/${message.snapshot.term} to ${message.to}`
  try {
    await writeFrame(
      stream,
      pb.SnapshotFrame.encode({ kind: SNAPSHOT_HEADER, message: toWireMessage(message) }),
      timeout,
      signal,
    )
    let size = 0
    let answeredEarly = false
    sending: for await (const chunk of data) {
      signal.throwIfAborted()
      for (let offset = 0; offset < chunk.byteLength; offset += limits.snapshotChunkSize) {
        // The receiver only answers before the end frame to refuse: stop sending then.
        if (reader.pendingFrames > 0) {
          answeredEarly = true
          break sending
        }
        const part = chunk.subarray(offset, offset + limits.snapshotChunkSize)
        await writeFrame(
          stream,
          pb.SnapshotFrame.encode({ kind: SNAPSHOT_CHUNK, data: part as Uint8Array<ArrayBuffer> }),
          timeout,
          signal,
        )
        size += part.byteLength
      }
    }
    if (!answeredEarly) {
      await writeFrame(
        stream,
        pb.SnapshotFrame.encode({ kind: SNAPSHOT_END, size }),
        timeout,
        signal,
      )
    }
    const answer = await reader.next({ timeout, signal })
    if (answer === undefined) {
      throw new SnapshotTransferError(
        `${description}: the receiver closed the stream without answering; the leader will retry`,
      )
    }
    checkResult(decodeSnapshotResult(answer), description)
    if (answeredEarly) {
      throw new SnapshotTransferError(
        `${description}: the receiver answered before the end of the data`,
      )
    }
    log('sent %s (%d bytes)', description, size)
    await stream.close({ signal }).catch(() => {})
  } catch (err) {
    stream.abort(err as Error)
    if (signal.aborted) {
      throw signal.reason
    }
    // A refusal may have arrived just before the reset that broke the write.
    if (!(err instanceof SnapshotRejectedError) && reader.pendingFrames > 0) {
      const answer = await reader.next({ timeout, signal }).catch(() => undefined)
      if (answer !== undefined) {
        checkResult(safeDecodeResult(answer), description)
      }
    }
    if (err instanceof SnapshotRejectedError || err instanceof SnapshotTransferError) {
      throw err
    }
    throw new SnapshotTransferError(`${description} failed: ${(err as Error).message}`, {
      cause: err,
    })
  } finally {
    reader.release()
  }
}

function checkResult(result: pb.SnapshotResult, description: string): void {
  if (!result.ok) {
    throw new SnapshotRejectedError(`${description} was refused: ${result.error}`)
  }
}

function safeDecodeResult(bytes: Uint8Array): pb.SnapshotResult {
  try {
    return decodeSnapshotResult(bytes)
  } catch {
    return { ok: true, error: '' }
  }
}
