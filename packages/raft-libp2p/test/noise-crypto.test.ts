import crypto, { KeyObject } from 'node:crypto'
import { nodeCrypto } from '@chainsafe/libp2p-noise/crypto'
import { afterEach, describe, expect, test, vi } from 'vitest'

// The patch of @chainsafe/libp2p-noise (patches/): node:crypto prepared the raw session key again
// for every cipher, about three times the cost of encrypting a Raft append of a few KiB.
describe("noise's node:crypto ciphers", () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  const nonce = new Uint8Array(12)
  const ad = new Uint8Array(0)
  const plaintext = new Uint8Array(4_000).map((_, index) => index % 251)

  test('are made from a KeyObject prepared once per session key', () => {
    const key = new Uint8Array(32).fill(7)
    const ciphers = vi.spyOn(crypto, 'createCipheriv')
    const deciphers = vi.spyOn(crypto, 'createDecipheriv')
    for (let message = 0; message < 3; message++) {
      const sealed = nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key)
      const opened = nodeCrypto.chaCha20Poly1305Decrypt(sealed.subarray(), nonce, ad, key)
      expect(Buffer.compare(opened.subarray(), plaintext)).toBe(0)
    }
    const keys = [...ciphers.mock.calls, ...deciphers.mock.calls].map((call) => call[1])
    expect(keys).toHaveLength(6)
    expect(keys.every((each) => each instanceof KeyObject)).toBe(true)
    expect(new Set(keys).size).toBe(1)
  })

  test('follow a key changed in place instead of using the one prepared before', () => {
    const key = new Uint8Array(32).fill(1)
    const before = nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()
    key.fill(2)
    const after = nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()
    expect(Buffer.compare(before, after)).not.toBe(0)
    expect(() => nodeCrypto.chaCha20Poly1305Decrypt(before, nonce, ad, key)).toThrow()
    const fresh = new Uint8Array(32).fill(2)
    const reference = nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, fresh).subarray()
    expect(Buffer.compare(after, reference)).toBe(0)
  })
})
