import { cidLength } from '../cid.ts'
import type { PinFields, PinTypeCode } from '../pin/fields.ts'
import { earliestTime, latestTime } from '../pin/time.ts'
import { pinRuleViolation } from '../pin/validate.ts'
import type { BinaryReader, ByteWriter } from './bytes.ts'
import { compareCodePoints, DecodeFailure } from './bytes.ts'

/**
 * The binary body of a pin, shared by the in-memory records, the snapshot and the operation
 * encoding. A varint of flags says which fields differ from their defaults; only those follow, in
 * flag order, so a default pin costs one or two bytes after its CID. The encoding of given fields
 * is unique (the reader refuses any other), so replicas holding the same pins hold the same bytes.
 *
 * The peer lists come first so that the peer references can be rewritten without decoding the
 * rest: in memory a reference is an index in the peer table, in a snapshot or an operation it is
 * a dictionary reference (see `PeerDictionary`).
 */
export const recordFlag = {
  allocations: 1,
  userAllocations: 2,
  timestamp: 4,
  name: 8,
  replicationFactorMin: 16,
  replicationFactorMax: 32,
  maxDepth: 64,
  shardSize: 128,
  expireAt: 256,
  metadata: 512,
  origins: 1024,
  reference: 2048,
} as const
const typeShift = 4096
const peerFlags = recordFlag.allocations | recordFlag.userAllocations
const flagLimit = typeShift * 4

export type PeerWriter = (writer: ByteWriter, peerId: string) => void
export type PeerReader = (reader: BinaryReader) => string

export function writePinBody(writer: ByteWriter, fields: PinFields, writePeer: PeerWriter): void {
  let flags = fields.type * typeShift
  if (fields.allocations.length > 0) flags |= recordFlag.allocations
  if (fields.userAllocations.length > 0) flags |= recordFlag.userAllocations
  if (fields.timestamp !== null) flags |= recordFlag.timestamp
  if (fields.name !== '') flags |= recordFlag.name
  if (fields.replicationFactorMin !== 0) flags |= recordFlag.replicationFactorMin
  if (fields.replicationFactorMax !== 0) flags |= recordFlag.replicationFactorMax
  if (fields.maxDepth !== -1) flags |= recordFlag.maxDepth
  if (fields.shardSize !== 0) flags |= recordFlag.shardSize
  if (fields.expireAt !== null) flags |= recordFlag.expireAt
  if (fields.metadata.length > 0) flags |= recordFlag.metadata
  if (fields.origins.length > 0) flags |= recordFlag.origins
  if (fields.reference !== null) flags |= recordFlag.reference
  writer.varint(flags)
  if (flags & recordFlag.allocations) {
    writer.varint(fields.allocations.length)
    for (const peer of fields.allocations) writePeer(writer, peer)
  }
  if (flags & recordFlag.userAllocations) {
    writer.varint(fields.userAllocations.length)
    for (const peer of fields.userAllocations) writePeer(writer, peer)
  }
  if (fields.timestamp !== null) writer.signedVarint(fields.timestamp)
  if (flags & recordFlag.name) writer.string(fields.name)
  if (flags & recordFlag.replicationFactorMin) writer.signedVarint(fields.replicationFactorMin)
  if (flags & recordFlag.replicationFactorMax) writer.signedVarint(fields.replicationFactorMax)
  if (flags & recordFlag.maxDepth) writer.signedVarint(fields.maxDepth)
  if (flags & recordFlag.shardSize) writer.varint(fields.shardSize)
  if (fields.expireAt !== null) writer.signedVarint(fields.expireAt)
  if (flags & recordFlag.metadata) {
    writer.varint(fields.metadata.length)
    for (const [key, value] of fields.metadata) {
      writer.string(key)
      writer.string(value)
    }
  }
  if (flags & recordFlag.origins) {
    writer.varint(fields.origins.length)
    for (const origin of fields.origins) writer.string(origin)
  }
  if (fields.reference !== null) writer.lengthPrefixedBinary(fields.reference)
}

function time(reader: BinaryReader, field: string): number {
  const value = reader.signedVarint()
  if (value < earliestTime || value > latestTime || value === 0 || value === -62135596800000) {
    throw new DecodeFailure(`${field} is out of range`)
  }
  return value
}

function nonZero(value: number, field: string): number {
  if (value === 0) throw new DecodeFailure(`${field} is flagged but has its default value`)
  return value
}

function peerList(reader: BinaryReader, readPeer: PeerReader, field: string): string[] {
  const count = nonZero(reader.varint(), field)
  if (count > reader.remaining) throw new DecodeFailure(`${field} count exceeds the data`)
  const peers = new Array<string>(count)
  for (let i = 0; i < count; i++) peers[i] = readPeer(reader)
  return peers
}

/**
 * Reads a pin body written by `writePinBody`, checking that it is the one canonical encoding and
 * that the pin keeps every Pin rule. Throws `DecodeFailure` otherwise. Stops at the body's end;
 * the caller checks what follows.
 */
export function readPinBody(reader: BinaryReader, cid: string, readPeer: PeerReader): PinFields {
  const flags = reader.varint()
  if (flags >= flagLimit) throw new DecodeFailure(`unknown pin flags ${flags}`)
  const fields: PinFields = {
    cid,
    type: Math.floor(flags / typeShift) as PinTypeCode,
    name: '',
    allocations: [],
    userAllocations: [],
    replicationFactorMin: 0,
    replicationFactorMax: 0,
    maxDepth: -1,
    shardSize: 0,
    expireAt: null,
    metadata: [],
    origins: [],
    reference: null,
    timestamp: null,
  }
  if (flags & recordFlag.allocations) fields.allocations = peerList(reader, readPeer, 'allocations')
  if (flags & recordFlag.userAllocations)
    fields.userAllocations = peerList(reader, readPeer, 'user_allocations')
  if (flags & recordFlag.timestamp) fields.timestamp = time(reader, 'timestamp')
  if (flags & recordFlag.name) {
    fields.name = reader.string()
    if (fields.name === '') throw new DecodeFailure('name is flagged but empty')
  }
  if (flags & recordFlag.replicationFactorMin)
    fields.replicationFactorMin = nonZero(reader.signedVarint(), 'replication_factor_min')
  if (flags & recordFlag.replicationFactorMax)
    fields.replicationFactorMax = nonZero(reader.signedVarint(), 'replication_factor_max')
  if (flags & recordFlag.maxDepth) {
    fields.maxDepth = reader.signedVarint()
    if (fields.maxDepth === -1)
      throw new DecodeFailure('max_depth is flagged but has its default value')
  }
  if (flags & recordFlag.shardSize) fields.shardSize = nonZero(reader.varint(), 'shard_size')
  if (flags & recordFlag.expireAt) fields.expireAt = time(reader, 'expire_at')
  if (flags & recordFlag.metadata) {
    const count = nonZero(reader.varint(), 'metadata')
    if (count > reader.remaining) throw new DecodeFailure('metadata count exceeds the data')
    let previous: string | null = null
    for (let i = 0; i < count; i++) {
      const key = reader.string()
      if (previous !== null && compareCodePoints(previous, key) >= 0)
        throw new DecodeFailure('metadata keys are not sorted and unique')
      fields.metadata.push([key, reader.string()])
      previous = key
    }
  }
  if (flags & recordFlag.origins) {
    const count = nonZero(reader.varint(), 'origins')
    if (count > reader.remaining) throw new DecodeFailure('origins count exceeds the data')
    for (let i = 0; i < count; i++) fields.origins.push(reader.string())
  }
  if (flags & recordFlag.reference) {
    const length = reader.varint()
    const start = reader.offset
    if (cidLength(reader.source, start, reader.end) !== length)
      throw new DecodeFailure('reference is not a CID')
    fields.reference = reader.binary(length)
  }
  const violation = pinRuleViolation(fields)
  if (violation !== null) throw new DecodeFailure(`${violation[0]} ${violation[1]}`)
  return fields
}

/**
 * The length of a stored record's key, its CID. Only for records this package wrote (in memory):
 * they always start with a CID, so there is no -1 to handle.
 */
export function recordKeyLength(record: string): number {
  return cidLength(record, 0, record.length)
}

/** A stored record's key: the CID bytes it starts with. */
export function recordKey(record: string): string {
  return record.slice(0, recordKeyLength(record))
}

/** True when a body (starting at `bodyStart`) has peer references. */
export function bodyHasPeers(record: string, bodyStart: number): boolean {
  return (record.charCodeAt(bodyStart) & peerFlags) !== 0
}

/**
 * Copies a pin body from `reader` to `writer`, translating each peer reference with `readPeer`
 * and `writePeer` and copying everything else byte for byte.
 */
export function rewriteBodyPeers(
  reader: BinaryReader,
  writer: ByteWriter,
  readPeer: PeerReader,
  writePeer: PeerWriter,
): void {
  const flagsStart = reader.offset
  const flags = reader.varint()
  writer.binary(reader.source, flagsStart, reader.offset)
  for (const flag of [recordFlag.allocations, recordFlag.userAllocations]) {
    if ((flags & flag) === 0) continue
    const count = reader.varint()
    writer.varint(count)
    for (let i = 0; i < count; i++) writePeer(writer, readPeer(reader))
  }
  writer.binary(reader.source, reader.offset, reader.end)
  reader.offset = reader.end
}

/** Reads the peer references of a body (and nothing else) with `readPeer`. */
export function visitBodyPeers(reader: BinaryReader, readPeer: PeerReader): void {
  const flags = reader.varint()
  for (const flag of [recordFlag.allocations, recordFlag.userAllocations]) {
    if ((flags & flag) === 0) continue
    const count = reader.varint()
    for (let i = 0; i < count; i++) readPeer(reader)
  }
}
