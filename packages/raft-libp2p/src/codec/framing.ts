import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_LENGTH_PREFIX_BYTES } from '../constants.ts'
import { FrameTooLargeError, MalformedFrameError } from '../errors.ts'

/**
 * Length-prefixed framing: each frame is an unsigned LEB128 varint of the payload's length
 * followed by the payload (the framing of libp2p's own protocols).
 */

export function varintLength(value: number): number {
  let length = 1
  let rest = value
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80)
    length++
  }
  return length
}

function writeVarint(value: number, target: Uint8Array, offset: number): number {
  let position = offset
  let rest = value
  while (rest >= 0x80) {
    target[position++] = (rest & 0x7f) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  target[position++] = rest
  return position
}

/** The encoded size of `payloads` as frames. */
export function framedLength(payloads: readonly Uint8Array[]): number {
  let total = 0
  for (const payload of payloads) {
    total += varintLength(payload.byteLength) + payload.byteLength
  }
  return total
}

/** Frames every payload into one buffer, so that a batch goes to the stream in a single write. */
export function encodeFrames(payloads: readonly Uint8Array[]): Uint8Array {
  const output = new Uint8Array(framedLength(payloads))
  let offset = 0
  for (const payload of payloads) {
    offset = writeVarint(payload.byteLength, output, offset)
    output.set(payload, offset)
    offset += payload.byteLength
  }
  return output
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  return encodeFrames([payload])
}

/**
 * Cuts a byte stream, arriving in chunks of any size, into frame payloads. A length above
 * `maxFrameSize` is refused as soon as its prefix is read, before its body is buffered.
 * After a throw the decoder is unusable: the caller closes the stream.
 */
export class FrameDecoder {
  readonly #maxFrameSize: number
  readonly #buffer = new Uint8ArrayList()
  /** Length of the frame whose body is awaited, or -1 while its prefix is not complete. */
  #expected = -1
  #prefixLength = 0

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize
  }

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buffer.byteLength
  }

  /** Feeds a chunk and yields every payload it completes, in order. */
  *push(chunk: Uint8Array | Uint8ArrayList): Generator<Uint8Array> {
    this.#buffer.append(chunk)
    while (true) {
      if (this.#expected === -1 && !this.#readPrefix()) {
        return
      }
      const end = this.#prefixLength + this.#expected
      if (this.#buffer.byteLength < end) {
        return
      }
      const payload = this.#buffer.subarray(this.#prefixLength, end)
      this.#buffer.consume(end)
      this.#expected = -1
      yield payload
    }
  }

  /** Reads the varint at the head of the buffer; false when more bytes are needed. */
  #readPrefix(): boolean {
    let value = 0
    let multiplier = 1
    const available = Math.min(this.#buffer.byteLength, MAX_LENGTH_PREFIX_BYTES)
    for (let position = 0; position < available; position++) {
      const byte = this.#buffer.get(position)
      value += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) {
        if (value > this.#maxFrameSize) {
          throw new FrameTooLargeError(value, this.#maxFrameSize)
        }
        this.#expected = value
        this.#prefixLength = position + 1
        return true
      }
      multiplier *= 0x80
    }
    if (this.#buffer.byteLength >= MAX_LENGTH_PREFIX_BYTES) {
      throw new MalformedFrameError(
        `a length prefix runs past ${MAX_LENGTH_PREFIX_BYTES} bytes; the stream does not carry this protocol's frames`,
      )
    }
    // A partial prefix already describing more than the limit needs no further bytes to refuse.
    if (value > this.#maxFrameSize) {
      throw new FrameTooLargeError(value, this.#maxFrameSize)
    }
    return false
  }
}
