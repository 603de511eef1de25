import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import xsalsa20 from 'xsalsa20'

// @libp2p/pnet encrypts every private-network connection with xsalsa20, two ciphers per
// connection, all sharing one WebAssembly memory of at most 1000 pages (62.5 MiB). Before the
// patch in patches/xsalsa20@1.2.0.patch, growing that memory detached every other cipher's
// view of it, and each then grew it again by its whole input: about 20 connections sending
// 1 MiB batches crashed the daemon with `WebAssembly.Memory.grow(): Maximum memory size
// exceeded` (seen by the reliability harness on the read path of a leader).
describe('the private network cipher', () => {
  const key = randomBytes(32)
  const MiB = 1024 * 1024

  it('encrypts 1 MiB batches for 40 connections at once without exhausting its memory', () => {
    const ciphers = Array.from({ length: 80 }, (_, index) => xsalsa20(nonce(index), key))
    const batch = new Uint8Array(MiB)
    for (let round = 0; round < 4; round++) {
      for (const cipher of ciphers) expect(cipher.update(batch).length).toBe(MiB)
    }
  })

  it('gives the same key stream to interleaved ciphers as to one cipher alone', () => {
    const plaintexts = Array.from({ length: 12 }, () => randomBytes(3 * MiB + 17))
    // Alone: each stream from a fresh cipher, in small steps that never grow the memory much.
    const expected = plaintexts.map((plaintext, index) => {
      const cipher = xsalsa20(nonce(index), key)
      const parts: Uint8Array[] = []
      for (let offset = 0; offset < plaintext.length; offset += 4096) {
        parts.push(cipher.update(plaintext.subarray(offset, offset + 4096)))
      }
      return Buffer.concat(parts)
    })
    // Interleaved, in large uneven steps, so that the memory grows while others hold views.
    const ciphers = plaintexts.map((_, index) => xsalsa20(nonce(index), key))
    const outputs = plaintexts.map(() => [] as Uint8Array[])
    const steps = [MiB + 3, 2 * MiB, 14]
    for (let step = 0, offset = 0; offset < 3 * MiB + 17; step++) {
      const size = steps[step % steps.length] as number
      plaintexts.forEach((plaintext, index) => {
        outputs[index]?.push(
          (ciphers[index] as ReturnType<typeof xsalsa20>).update(
            plaintext.subarray(offset, offset + size),
          ),
        )
      })
      offset += size
    }
    outputs.forEach((parts, index) => {
      expect(Buffer.concat(parts).equals(expected[index] as Buffer)).toBe(true)
    })
  })
})

function nonce(index: number): Uint8Array {
  const bytes = new Uint8Array(24)
  new DataView(bytes.buffer).setUint32(0, index)
  return bytes
}
