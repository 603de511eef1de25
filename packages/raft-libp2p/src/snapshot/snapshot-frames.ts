import type { Stream } from '@libp2p/interface'
import { encodeFrame } from '../codec/framing.ts'
import { MalformedFrameError, TimeoutError } from '../errors.ts'
import * as pb from '../pb/raft.gen.ts'

/** Kinds of snapshot frames (see raft.proto). */
export const SNAPSHOT_HEADER = 1
export const SNAPSHOT_CHUNK = 2
export const SNAPSHOT_END = 3

export function decodeSnapshotFrame(bytes: Uint8Array): pb.SnapshotFrame {
  let frame: pb.SnapshotFrame
  try {
    frame = pb.SnapshotFrame.decode(bytes)
  } catch (err) {
    throw new MalformedFrameError(
      `a frame is not a protobuf SnapshotFrame: ${(err as Error).message}`,
    )
  }
  if (
    frame.kind !== SNAPSHOT_HEADER &&
    frame.kind !== SNAPSHOT_CHUNK &&
    frame.kind !== SNAPSHOT_END
  ) {
    throw new MalformedFrameError(`unknown snapshot frame kind ${frame.kind}`)
  }
  return frame
}

export function decodeSnapshotResult(bytes: Uint8Array): pb.SnapshotResult {
  try {
    return pb.SnapshotResult.decode(bytes)
  } catch (err) {
    throw new MalformedFrameError(
      `a frame is not a protobuf SnapshotResult: ${(err as Error).message}`,
    )
  }
}

/** Writes one framed payload, waiting for the stream to drain when it asks to. */
export async function writeFrame(
  stream: Stream,
  payload: Uint8Array,
  timeout: number,
  signal: AbortSignal,
): Promise<void> {
  if (stream.send(encodeFrame(payload))) {
    return
  }
  try {
    await stream.onDrain({ signal: AbortSignal.any([signal, AbortSignal.timeout(timeout)]) })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' && !signal.aborted) {
      throw new TimeoutError(
        `the peer accepted no snapshot data for ${timeout} ms; it stalled or went away (raise snapshotTimeout if transfers are slow)`,
      )
    }
    throw err
  }
}
