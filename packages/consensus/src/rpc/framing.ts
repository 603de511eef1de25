/**
 * Length-prefixed frames (an unsigned varint of the payload's length, then the payload), as
 * `lpStream` writes them, for streams that carry many requests and responses.
 */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  let prefix = 1
  for (let rest = payload.byteLength; rest >= 0x80; rest = Math.floor(rest / 0x80)) prefix++
  const frame = new Uint8Array(prefix + payload.byteLength)
  let position = 0
  let rest = payload.byteLength
  while (rest >= 0x80) {
    frame[position++] = (rest & 0x7f) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  frame[position++] = rest
  frame.set(payload, position)
  return frame
}
