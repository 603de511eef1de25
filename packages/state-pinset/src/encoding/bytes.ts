/**
 * Byte-level helpers shared by the pin records, the operation encoding and the snapshot format.
 *
 * Records live in memory as "binary strings": one-byte JavaScript strings whose char codes are the
 * bytes. V8 stores them at one byte per character with a 16-byte header, which is far more
 * compact than a Uint8Array per pin, and `<` on two binary strings is byte order.
 */

/** Thrown by the readers when bytes do not decode; callers turn it into their own error. */
export class DecodeFailure extends Error {
  override readonly name = 'DecodeFailure'
}

const maxSafe = Number.MAX_SAFE_INTEGER
const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A binary string holding `bytes[start, end)`; always a fresh flat string (never a slice). */
export function bytesToBinary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const length = end - start
  if (length <= 0) return ''
  if (length <= 256) {
    // Copying to a plain array first is faster than applying a typed array.
    const codes = new Array<number>(length)
    for (let i = 0; i < length; i++) codes[i] = bytes[start + i]!
    return String.fromCharCode.apply(null, codes)
  }
  // Large ones (a snapshot frame, read whole at restore): latin1 is a native copy into one flat
  // string, where joining fromCharCode pieces built a rope to flatten later.
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1')
}

/** Whether every character of `text[start, end)` is ASCII: its UTF-8 is then its characters. */
export function isAscii(text: string, start = 0, end = text.length): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}

/**
 * `text[start, end)` as a fresh flat string. A `slice` of 13 characters or more is a view that
 * keeps the whole of `text` alive, which a request id kept in the request log must not do.
 */
function copyOf(text: string, start: number, end: number): string {
  const length = end - start
  if (length > 256) return Buffer.from(text.slice(start, end), 'latin1').toString('latin1')
  const codes = new Array<number>(length)
  for (let i = 0; i < length; i++) codes[i] = text.charCodeAt(start + i)
  return String.fromCharCode.apply(null, codes)
}

/** The bytes of a binary string. */
export function binaryToBytes(text: string, start = 0, end = text.length): Uint8Array {
  const bytes = new Uint8Array(end - start)
  for (let i = start; i < end; i++) bytes[i - start] = text.charCodeAt(i)
  return bytes
}

/** A growable byte buffer with the encodings the formats use. */
export class ByteWriter {
  #buffer: Uint8Array
  length = 0

  constructor(initialCapacity = 256) {
    this.#buffer = new Uint8Array(initialCapacity)
  }

  #reserve(extra: number): void {
    const needed = this.length + extra
    if (needed <= this.#buffer.length) return
    let capacity = this.#buffer.length * 2
    while (capacity < needed) capacity *= 2
    const next = new Uint8Array(capacity)
    next.set(this.#buffer.subarray(0, this.length))
    this.#buffer = next
  }

  byte(value: number): void {
    this.#reserve(1)
    this.#buffer[this.length++] = value
  }

  bytes(value: Uint8Array): void {
    this.#reserve(value.length)
    this.#buffer.set(value, this.length)
    this.length += value.length
  }

  /** Appends the bytes of a binary string. */
  binary(text: string, start = 0, end = text.length): void {
    this.#reserve(end - start)
    const buffer = this.#buffer
    let at = this.length
    for (let i = start; i < end; i++) buffer[at++] = text.charCodeAt(i)
    this.length = at
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  varint(value: number): void {
    this.#reserve(8)
    const buffer = this.#buffer
    let rest = value
    while (rest >= 0x80) {
      buffer[this.length++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    buffer[this.length++] = rest
  }

  /** Zigzag LEB128 of a safe integer (|value| < 2^52). */
  signedVarint(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  /** A varint length and the UTF-8 bytes of `text`; returns the number of UTF-8 bytes. */
  string(text: string): number {
    if (text.length === 0) {
      this.byte(0)
      return 0
    }
    // Most names, metadata and request ids: no encoder call (a native call and an allocation).
    if (isAscii(text)) {
      this.varint(text.length)
      this.binary(text)
      return text.length
    }
    const encoded = utf8Encoder.encode(text)
    this.varint(encoded.length)
    this.bytes(encoded)
    return encoded.length
  }

  /** Length-prefixed raw bytes of a binary string. */
  lengthPrefixedBinary(text: string): void {
    this.varint(text.length)
    this.binary(text)
  }

  uint32(value: number): void {
    this.#reserve(4)
    const buffer = this.#buffer
    buffer[this.length++] = (value >>> 24) & 0xff
    buffer[this.length++] = (value >>> 16) & 0xff
    buffer[this.length++] = (value >>> 8) & 0xff
    buffer[this.length++] = value & 0xff
  }

  /** Overwrites four bytes at `offset` (which must already be written). */
  setUint32(offset: number, value: number): void {
    const buffer = this.#buffer
    buffer[offset] = (value >>> 24) & 0xff
    buffer[offset + 1] = (value >>> 16) & 0xff
    buffer[offset + 2] = (value >>> 8) & 0xff
    buffer[offset + 3] = value & 0xff
  }

  /** A view of what was written; valid until the next write or reset. */
  view(start = 0, end = this.length): Uint8Array {
    return this.#buffer.subarray(start, end)
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.#buffer.slice(0, this.length)
  }

  toBinary(start = 0, end = this.length): string {
    return bytesToBinary(this.#buffer, start, end)
  }

  reset(): void {
    this.length = 0
  }
}

/** Reads the encodings of `ByteWriter` back from a binary string, refusing anything non-canonical. */
export class BinaryReader {
  readonly source: string
  offset: number
  readonly end: number

  constructor(source: string, offset = 0, end = source.length) {
    this.source = source
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  byte(): number {
    if (this.offset >= this.end) throw new DecodeFailure('unexpected end of data')
    return this.source.charCodeAt(this.offset++)
  }

  varint(): number {
    let value = 0
    let scale = 1
    for (let count = 0; ; count++) {
      if (count === 8) throw new DecodeFailure('varint is too long')
      const byte = this.byte()
      value += (byte & 0x7f) * scale
      if (byte < 0x80) {
        // A zero last byte means a longer encoding than needed: refuse it so every value has
        // exactly one encoding (replicas must agree on bytes, not only on values).
        if (byte === 0 && count > 0) throw new DecodeFailure('varint is not minimally encoded')
        if (value > maxSafe) throw new DecodeFailure('varint exceeds 2^53')
        return value
      }
      scale *= 0x80
    }
  }

  signedVarint(): number {
    const zigzag = this.varint()
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
  }

  /** `length` raw bytes as a binary string (a transient slice of the source). */
  binary(length: number): string {
    if (length > this.remaining) throw new DecodeFailure('unexpected end of data')
    const start = this.offset
    this.offset += length
    return this.source.slice(start, this.offset)
  }

  lengthPrefixedBinary(): string {
    return this.binary(this.varint())
  }

  string(): string {
    const length = this.varint()
    if (length === 0) return ''
    if (length > this.remaining) throw new DecodeFailure('unexpected end of data')
    const start = this.offset
    this.offset += length
    if (isAscii(this.source, start, this.offset)) return copyOf(this.source, start, this.offset)
    const bytes = binaryToBytes(this.source, start, this.offset)
    try {
      return utf8Decoder.decode(bytes)
    } catch {
      throw new DecodeFailure('string is not valid UTF-8')
    }
  }

  uint32(): number {
    if (this.remaining < 4) throw new DecodeFailure('unexpected end of data')
    const s = this.source
    const at = this.offset
    this.offset += 4
    return (
      ((s.charCodeAt(at) << 24) |
        (s.charCodeAt(at + 1) << 16) |
        (s.charCodeAt(at + 2) << 8) |
        s.charCodeAt(at + 3)) >>>
      0
    )
  }
}

/** True when a string has no lone surrogate (it round-trips through UTF-8 unchanged). */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)
}

/** Compares two strings by code point, which is the byte order of their UTF-8 (Go's order). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF, which sort after 0xE000–0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}
