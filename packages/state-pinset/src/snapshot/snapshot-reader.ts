import type { AbortOptions } from '@pinraft/raft-core'
import { cidLength } from '../cid.ts'
import { BinaryReader, ByteWriter, bytesToBinary, DecodeFailure } from '../encoding/bytes.ts'
import { crc32 } from '../encoding/crc32.ts'
import { PeerDictionaryReader } from '../encoding/peer-dictionary.ts'
import { bodyHasPeers, readPinBody, writePinBody } from '../encoding/pin-record.ts'
import { SnapshotCorruptError, SnapshotVersionError } from '../errors.ts'
import { maxRequestIdBytes } from '../operation/operation.ts'
import type { PinsetContents } from '../state/contents.ts'
import { emptyContents } from '../state/contents.ts'
import { frameKind, maxFramePayload, snapshotFormatVersion, snapshotMagic } from './format.ts'

/** Reads exact byte counts from an async stream of arbitrary chunks, copying only when a read spans chunks. */
class StreamReader {
  readonly #iterator: AsyncIterator<Uint8Array>
  readonly #chunks: Uint8Array[] = []
  #available = 0

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]()
  }

  /** Exactly `length` bytes; null if the stream ended cleanly before any of them. */
  async read(length: number): Promise<Uint8Array | null> {
    if (length === 0) return new Uint8Array(0)
    while (this.#available < length) {
      const next = await this.#iterator.next()
      if (next.done === true) {
        if (this.#available === 0) return null
        throw new DecodeFailure('the snapshot ends in the middle of a frame (truncated)')
      }
      if (!(next.value instanceof Uint8Array))
        throw new DecodeFailure('a snapshot chunk is not a Uint8Array')
      if (next.value.length === 0) continue
      this.#chunks.push(next.value)
      this.#available += next.value.length
    }
    const first = this.#chunks[0]!
    if (first.length >= length) {
      const bytes = first.subarray(0, length)
      if (first.length === length) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(length)
      this.#available -= length
      return bytes
    }
    const bytes = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const chunk = this.#chunks[0]!
      const take = Math.min(chunk.length, length - filled)
      bytes.set(chunk.subarray(0, take), filled)
      filled += take
      if (take === chunk.length) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(take)
    }
    this.#available -= length
    return bytes
  }

  async close(): Promise<void> {
    await this.#iterator.return?.()
  }
}

interface Frame {
  kind: number
  payload: Uint8Array
}

async function readFrame(stream: StreamReader): Promise<Frame | null> {
  const head = await stream.read(5)
  if (head === null) return null
  const kind = head[0]!
  const length = ((head[1]! << 24) | (head[2]! << 16) | (head[3]! << 8) | head[4]!) >>> 0
  if (length > maxFramePayload)
    throw new DecodeFailure(`frame of ${length} bytes is larger than any this format writes`)
  const payload = (await stream.read(length)) ?? new Uint8Array(0)
  if (payload.length !== length)
    throw new DecodeFailure('the snapshot ends in the middle of a frame (truncated)')
  const checksum = await stream.read(4)
  if (checksum === null)
    throw new DecodeFailure('the snapshot ends in the middle of a frame (truncated)')
  const expected =
    ((checksum[0]! << 24) | (checksum[1]! << 16) | (checksum[2]! << 8) | checksum[3]!) >>> 0
  if (crc32(payload, crc32(head)) !== expected)
    throw new DecodeFailure(`checksum mismatch in a frame of kind ${kind}`)
  return { kind, payload }
}

/** Parses version 1 frames into fresh contents. A later version adds its reader beside this one. */
async function readVersion1(stream: StreamReader, options?: AbortOptions): Promise<PinsetContents> {
  const first = await readFrame(stream)
  if (first === null || first.kind !== frameKind.header)
    throw new DecodeFailure('the first frame is not the header')
  const header = new BinaryReader(bytesToBinary(first.payload))
  const expectedPins = header.varint()
  const capacity = header.varint()
  const requestCount = header.varint()
  if (requestCount > capacity) throw new DecodeFailure('more request ids than the capacity')
  const contents = emptyContents(capacity)
  for (let i = 0; i < requestCount; i++) {
    const requestId = header.string()
    if (requestId === '' || new TextEncoder().encode(requestId).length > maxRequestIdBytes) {
      throw new DecodeFailure('a request id is empty or too long')
    }
    if (contents.requests.has(requestId)) throw new DecodeFailure('a request id appears twice')
    contents.requests.add(requestId)
  }
  if (header.remaining !== 0) throw new DecodeFailure('the header frame has trailing bytes')

  const { records, peers } = contents
  const dictionary = new PeerDictionaryReader()
  const record = new ByteWriter(256)
  let previousKey = ''
  while (true) {
    options?.signal?.throwIfAborted()
    const frame = await readFrame(stream)
    if (frame === null)
      throw new DecodeFailure('the snapshot ends before its end frame (truncated)')
    const source = bytesToBinary(frame.payload)
    const reader = new BinaryReader(source)
    if (frame.kind === frameKind.end) {
      const count = reader.varint()
      const dictionarySize = reader.varint()
      if (reader.remaining !== 0) throw new DecodeFailure('the end frame has trailing bytes')
      if (count !== records.size || count !== expectedPins) {
        throw new DecodeFailure(
          `the snapshot announces ${expectedPins} pins and ends after ${records.size}`,
        )
      }
      if (dictionarySize !== dictionary.peers.length)
        throw new DecodeFailure('the peer dictionary size does not match')
      break
    }
    if (frame.kind !== frameKind.pins)
      throw new DecodeFailure(`unexpected frame kind ${frame.kind}`)
    const count = reader.varint()
    if (count === 0) throw new DecodeFailure('an empty pins frame')
    for (let i = 0; i < count; i++) {
      const length = reader.varint()
      const start = reader.offset
      const end = start + length
      if (end > reader.end) throw new DecodeFailure('a record runs past its frame')
      const keyLength = cidLength(source, start, end)
      if (keyLength < 0) throw new DecodeFailure('a record does not start with a CID')
      const key = source.slice(start, start + keyLength)
      if (!(previousKey < key))
        throw new DecodeFailure('records are not in strictly increasing CID order')
      const bodyStart = start + keyLength
      const body = new BinaryReader(source, bodyStart, end)
      const fields = readPinBody(body, key, dictionary.read)
      if (body.remaining !== 0) throw new DecodeFailure('a record has trailing bytes')
      if (bodyHasPeers(source, bodyStart)) {
        // Dictionary references become peer-table indexes.
        record.reset()
        record.binary(source, start, bodyStart)
        writePinBody(record, fields, peers.writeAcquiring)
        records.append(record.toBinary())
      } else {
        // Without peers the stored record is the snapshot's, byte for byte (one canonical
        // encoding, which readPinBody has just checked).
        records.append(bytesToBinary(frame.payload, start, end))
      }
      previousKey = key
      reader.offset = end
    }
    if (reader.remaining !== 0) throw new DecodeFailure('a pins frame has trailing bytes')
    if (records.size > expectedPins)
      throw new DecodeFailure(`the snapshot announces ${expectedPins} pins and holds more`)
  }
  if ((await stream.read(1)) !== null) throw new DecodeFailure('bytes follow the end frame')
  return contents
}

/**
 * Reads a snapshot into fresh contents, checking every checksum, the order and validity of
 * every record, and the counts. Throws `SnapshotCorruptError` or `SnapshotVersionError`; the
 * caller's state is untouched either way.
 */
export async function readSnapshot(
  data: AsyncIterable<Uint8Array>,
  options?: AbortOptions,
): Promise<PinsetContents> {
  const stream = new StreamReader(data)
  try {
    const prefix = await stream.read(10)
    if (prefix === null || !snapshotMagic.every((byte, index) => prefix[index] === byte)) {
      throw new DecodeFailure('it does not start with the pinset snapshot magic "PRPINSET"')
    }
    const version = (prefix[8]! << 8) | prefix[9]!
    if (version > snapshotFormatVersion)
      throw new SnapshotVersionError(version, snapshotFormatVersion)
    switch (version) {
      case 1:
        return await readVersion1(stream, options)
      default:
        throw new DecodeFailure(`unknown format version ${version}`)
    }
  } catch (error) {
    await stream.close().catch(() => {})
    if (error instanceof DecodeFailure)
      throw new SnapshotCorruptError(`pinset snapshot is corrupt: ${error.message}`)
    throw error
  }
}
