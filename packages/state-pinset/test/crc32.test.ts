import { describe, expect, it } from 'vitest'
import { crc32 } from '../src/encoding/crc32.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('crc32', () => {
  it('is the IEEE CRC-32 that snapshots written before have', () => {
    // The check value of CRC-32/ISO-HDLC, the zlib and PNG CRC.
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('continues from the CRC of the bytes before', () => {
    expect(crc32(bytes('56789'), crc32(bytes('1234')))).toBe(crc32(bytes('123456789')))
  })
})
