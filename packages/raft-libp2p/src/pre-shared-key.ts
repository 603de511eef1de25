import { InvalidOptionError } from './errors.ts'

const KEY_LENGTH = 32

/**
 * Turns a 32-byte secret (IPFS Cluster's `secret`, 64 hex characters) into the key file that
 * `@libp2p/pnet`'s `preSharedKey({ psk })` expects. Peers whose keys differ cannot connect.
 */
export function preSharedKeyFromSecret(secret: Uint8Array | string): Uint8Array {
  const bytes = typeof secret === 'string' ? hexToBytes(secret) : secret
  if (bytes.byteLength !== KEY_LENGTH) {
    throw new InvalidOptionError(
      `a private network secret is ${KEY_LENGTH} bytes (64 hex characters); got ${bytes.byteLength} bytes`,
    )
  }
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}`)
}

function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new InvalidOptionError('a private network secret given as text must be hexadecimal')
  }
  const bytes = new Uint8Array(hex.length / 2)
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16)
  }
  return bytes
}
