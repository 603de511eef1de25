import type { ConnectionProtector, MessageStream } from '@libp2p/interface'
import xsalsa20 from 'xsalsa20'

/** libp2p's private network: each side first sends a 24-byte nonce, then XSalsa20 ciphertext. */
const NONCE_LENGTH = 24

/**
 * How an inbound connection starts once decrypted: multistream-select's header, or (libp2p
 * negotiating its one encrypter optimistically) noise's first XX message, a 32-byte key behind
 * a 2-byte length.
 */
const inboundStarts: readonly Uint8Array[] = [
  new TextEncoder().encode('\u0013/multistream/1.0.0\n'),
  Uint8Array.of(0x00, 0x20),
]
const DECIDING_LENGTH = Math.max(...inboundStarts.map((start) => start.byteLength))

/** An inbound connection whose first bytes do not decrypt to a connection's start. */
export interface SecretMismatch {
  /** The remote address of the connection. */
  readonly remoteAddress: string
  readonly direction: 'inbound'
}

interface DataReceiver {
  onData(data: Uint8Array): void
  readonly remoteAddr?: { toString(): string }
  readonly direction?: 'inbound' | 'outbound'
}

/** Whether `plain` (the first decrypted bytes) can be the start of a connection. */
function plausibleStart(plain: Uint8Array): boolean {
  return inboundStarts.some((start) => {
    const compared = Math.min(plain.byteLength, start.byteLength)
    for (let index = 0; index < compared; index++) if (plain[index] !== start[index]) return false
    return true
  })
}

/**
 * Wraps the private network protector so that a peer with another cluster secret is recognised
 * when it connects: its first bytes, decrypted with our key, are noise where a connection always
 * starts with one of `inboundStarts`. libp2p itself only fails the upgrade, silently at its
 * default log level. It watches a copy of the first bytes of each inbound connection, decrypting
 * them on the side; what the connection reads is untouched. (An outbound connection's first
 * bytes, noise's second message, have no fixed prefix.)
 */
export function secretCheckingProtector(
  inner: ConnectionProtector,
  key: Uint8Array,
  onMismatch: (mismatch: SecretMismatch) => void,
): ConnectionProtector {
  return {
    async protect(connection, options): Promise<MessageStream> {
      const raw = connection as unknown as DataReceiver
      if (typeof raw.onData === 'function' && raw.direction === 'inbound') {
        const original = raw.onData
        const received: Uint8Array[] = []
        let length = 0
        raw.onData = function (this: DataReceiver, data: Uint8Array) {
          received.push(data.slice())
          length += data.byteLength
          if (length >= NONCE_LENGTH + DECIDING_LENGTH) {
            raw.onData = original
            const bytes = new Uint8Array(length)
            let offset = 0
            for (const chunk of received) {
              bytes.set(chunk, offset)
              offset += chunk.byteLength
            }
            const cipher = xsalsa20(bytes.subarray(0, NONCE_LENGTH), key)
            const plain = cipher.update(
              bytes.subarray(NONCE_LENGTH, NONCE_LENGTH + DECIDING_LENGTH),
            )
            cipher.finalize()
            if (!plausibleStart(plain)) {
              onMismatch({
                remoteAddress: String(raw.remoteAddr ?? 'an unknown address'),
                direction: 'inbound',
              })
            }
          }
          original.call(this, data)
        }
      }
      return inner.protect(connection, options)
    },
  }
}
