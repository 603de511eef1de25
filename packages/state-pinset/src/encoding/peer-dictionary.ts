import { peerIdBytes, peerIdFromBytes } from '../pin/peer-id.ts'
import type { BinaryReader, ByteWriter } from './bytes.ts'
import { binaryToBytes, bytesToBinary, DecodeFailure } from './bytes.ts'

/**
 * Peer references in a stream (a snapshot, or one operation): the first time a peer appears its
 * multihash bytes are written inline (reference 0), after that it is referred to by its place in
 * order of first appearance (reference k ≥ 1). A cluster has few peers and every pin names some,
 * so this keeps each reference to a byte or two while depending only on the stream itself.
 */
export class PeerDictionaryWriter {
  readonly #references = new Map<string, number>()

  get size(): number {
    return this.#references.size
  }

  readonly write = (writer: ByteWriter, peerId: string): void => {
    const reference = this.#references.get(peerId)
    if (reference !== undefined) {
      writer.varint(reference)
      return
    }
    this.#references.set(peerId, this.#references.size + 1)
    writer.varint(0)
    writer.lengthPrefixedBinary(bytesToBinary(peerIdBytes(peerId)))
  }
}

/** Reads what `PeerDictionaryWriter` wrote, refusing references to peers not yet defined. */
export class PeerDictionaryReader {
  readonly peers: string[] = []
  readonly #known = new Set<string>()

  readonly read = (reader: BinaryReader): string => {
    const reference = reader.varint()
    if (reference > 0) {
      const peer = this.peers[reference - 1]
      if (peer === undefined) throw new DecodeFailure(`peer reference ${reference} is not defined`)
      return peer
    }
    const bytes = reader.lengthPrefixedBinary()
    const peer = peerIdFromBytes(binaryToBytes(bytes))
    if (peer === null) throw new DecodeFailure('peer ID is not a multihash')
    if (this.#known.has(peer)) throw new DecodeFailure('peer ID is defined twice')
    this.#known.add(peer)
    this.peers.push(peer)
    return peer
  }
}
