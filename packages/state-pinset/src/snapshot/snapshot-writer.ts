import type { AbortOptions } from '@pinraft/raft-core'
import { BinaryReader, ByteWriter } from '../encoding/bytes.ts'
import { crc32 } from '../encoding/crc32.ts'
import { PeerDictionaryWriter } from '../encoding/peer-dictionary.ts'
import { bodyHasPeers, recordKeyLength, rewriteBodyPeers } from '../encoding/pin-record.ts'
import type { PinsetContents } from '../state/contents.ts'
import { frameKind, framePayloadTarget, snapshotFormatVersion, snapshotMagic } from './format.ts'

function frame(
  kind: number,
  count: number | null,
  payload: ByteWriter,
  prefix?: Uint8Array,
): Uint8Array {
  const writer = new ByteWriter(payload.length + 32 + (prefix?.length ?? 0))
  if (prefix !== undefined) writer.bytes(prefix)
  const start = writer.length
  writer.byte(kind)
  writer.uint32(0)
  if (count !== null) writer.varint(count)
  writer.bytes(payload.view())
  writer.setUint32(start + 1, writer.length - start - 5)
  writer.uint32(crc32(writer.view(start)))
  return writer.toBytes()
}

/**
 * Streams the contents as snapshot frames (see `format.ts`), one frame per chunk. `checkUnchanged`
 * runs before each chunk and throws if the state changed since the stream began.
 */
export async function* writeSnapshot(
  contents: PinsetContents,
  checkUnchanged: () => void,
  options?: AbortOptions,
): AsyncGenerator<Uint8Array> {
  const { records, peers, requests } = contents
  const header = new ByteWriter(64)
  header.varint(records.size)
  header.varint(requests.capacity)
  header.varint(requests.size)
  for (const requestId of requests) header.string(requestId)
  const prefix = new Uint8Array(10)
  prefix.set(snapshotMagic)
  prefix[8] = snapshotFormatVersion >>> 8
  prefix[9] = snapshotFormatVersion & 0xff
  options?.signal?.throwIfAborted()
  yield frame(frameKind.header, null, header, prefix)

  const dictionary = new PeerDictionaryWriter()
  const payload = new ByteWriter(framePayloadTarget + 4096)
  const record = new ByteWriter(256)
  let inFrame = 0
  let written = 0
  for (const stored of records.records()) {
    const keyLength = recordKeyLength(stored)
    let bytes: Uint8Array | string = stored
    if (bodyHasPeers(stored, keyLength)) {
      record.reset()
      record.binary(stored, 0, keyLength)
      rewriteBodyPeers(new BinaryReader(stored, keyLength), record, peers.read, dictionary.write)
      bytes = record.view()
    }
    if (typeof bytes === 'string') {
      payload.varint(bytes.length)
      payload.binary(bytes)
    } else {
      payload.varint(bytes.length)
      payload.bytes(bytes)
    }
    inFrame++
    written++
    if (payload.length >= framePayloadTarget) {
      checkUnchanged()
      options?.signal?.throwIfAborted()
      yield frame(frameKind.pins, inFrame, payload)
      payload.reset()
      inFrame = 0
    }
  }
  checkUnchanged()
  options?.signal?.throwIfAborted()
  if (inFrame > 0) yield frame(frameKind.pins, inFrame, payload)
  const end = new ByteWriter(16)
  end.varint(written)
  end.varint(dictionary.size)
  yield frame(frameKind.end, null, end)
}
