import type { Logger, Stream } from '@libp2p/interface'
import type { NodeId, SnapshotMessage, TransportHandler } from '@pinraft/raft-core'
import { FrameReader } from '../codec/frame-reader.ts'
import { encodeFrame } from '../codec/framing.ts'
import { fromWireMessage, plainBytes } from '../codec/message-codec.ts'
import { MalformedFrameError, SnapshotTransferError } from '../errors.ts'
import * as pb from '../pb/raft.gen.ts'
import {
  decodeSnapshotFrame,
  SNAPSHOT_CHUNK,
  SNAPSHOT_END,
  SNAPSHOT_HEADER,
  writeFrame,
} from './snapshot-frames.ts'

export interface SnapshotReceiveLimits {
  maxMessageSize: number
  snapshotTimeout: number
}

/**
 * Receives one snapshot from `from` and hands it to `handler.onSnapshot`, then answers ok, or
 * the error that stopped it. The data iterable the handler reads throws if the transfer breaks
 * off (stream reset, stall, missing or inconsistent end frame), so the handler never takes a
 * truncated snapshot for a whole one.
 */
export async function receiveSnapshotFromStream(
  stream: Stream,
  from: NodeId,
  to: NodeId,
  handler: TransportHandler,
  limits: SnapshotReceiveLimits,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const reader = new FrameReader(stream, {
    maxFrameSize: limits.maxMessageSize,
    highWaterMark: limits.maxMessageSize,
  })
  const timeout = limits.snapshotTimeout
  let ended = false
  try {
    const header = await reader.next({ timeout, signal })
    if (header === undefined) {
      throw new SnapshotTransferError(`${from} closed the snapshot stream before its header`)
    }
    const message = readHeader(header, from, to)
    const data = async function* (): AsyncGenerator<Uint8Array> {
      let size = 0
      while (true) {
        const bytes = await reader.next({ timeout, signal })
        if (bytes === undefined) {
          throw new SnapshotTransferError(
            `the snapshot stream from ${from} ended after ${size} bytes without its end frame; the transfer is incomplete`,
          )
        }
        const frame = decodeSnapshotFrame(bytes)
        if (frame.kind === SNAPSHOT_CHUNK) {
          size += frame.data.byteLength
          if (frame.data.byteLength > 0) {
            yield plainBytes(frame.data)
          }
          continue
        }
        if (frame.kind === SNAPSHOT_END) {
          if (frame.size !== size) {
            throw new SnapshotTransferError(
              `${from} reports a snapshot of ${frame.size} bytes but ${size} arrived; the transfer is corrupt`,
            )
          }
          ended = true
          return
        }
        throw new MalformedFrameError('a second header frame in one snapshot transfer')
      }
    }
    const chunks = data()
    await handler.onSnapshot(message, chunks, { signal })
    // A handler that returned without reading to the end still gets the rest checked.
    for await (const _ of chunks) {
      // discard
    }
    if (!ended) {
      throw new SnapshotTransferError('the snapshot handler returned before the transfer ended')
    }
    await writeFrame(stream, pb.SnapshotResult.encode({ ok: true }), timeout, signal)
    log('stored snapshot %d/%d from %s', message.snapshot.index, message.snapshot.term, from)
    await stream.close({ signal: AbortSignal.timeout(timeout) }).catch(() => {})
  } catch (err) {
    const reason = (err as Error).message
    log.error('snapshot from %s failed: %s', from, reason)
    // Answer, then reset: the sender may still be writing, and the reset stops it at once; the
    // muxer delivers the answer ahead of the reset.
    try {
      stream.send(encodeFrame(pb.SnapshotResult.encode({ ok: false, error: reason })))
    } catch {
      // the stream is already gone
    }
    stream.abort(err as Error)
  } finally {
    reader.release()
  }
}

function readHeader(bytes: Uint8Array, from: NodeId, to: NodeId): SnapshotMessage {
  const frame = decodeSnapshotFrame(bytes)
  if (frame.kind !== SNAPSHOT_HEADER || frame.message === undefined) {
    throw new MalformedFrameError('a snapshot transfer must start with a header frame')
  }
  const message = fromWireMessage(frame.message, from, to)
  if (message.type !== 'snapshot') {
    throw new MalformedFrameError(`a snapshot header carries a ${message.type} message`)
  }
  return message
}
