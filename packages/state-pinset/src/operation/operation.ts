import type { CID } from 'multiformats/cid'
import { cidKey, decodeCanonicalCid, parseCid } from '../cid.ts'
import {
  BinaryReader,
  ByteWriter,
  bytesToBinary,
  DecodeFailure,
  isWellFormed,
} from '../encoding/bytes.ts'
import { PeerDictionaryReader, PeerDictionaryWriter } from '../encoding/peer-dictionary.ts'
import { readPinBody, writePinBody } from '../encoding/pin-record.ts'
import { InvalidOperationError, MalformedOperationError } from '../errors.ts'
import type { PinFields } from '../pin/fields.ts'
import { fieldsToPin } from '../pin/fields.ts'
import type { PinInput } from '../pin/pin.ts'
import { validatePinRecordFields } from '../pin/validate.ts'

/** Pins a CID, or replaces its pin. */
export interface PinOperation {
  readonly type: 'pin'
  readonly pin: PinInput
  /** Identifies the client request; a second operation with the same id is skipped. */
  readonly requestId?: string
}

/** Unpins a CID; unpinning an absent CID is not an error. */
export interface UnpinOperation {
  readonly type: 'unpin'
  readonly cid: CID | string | Uint8Array
  readonly requestId?: string
}

/** Several pins and unpins applied in order as one log entry. */
export interface BatchOperation {
  readonly type: 'batch'
  readonly operations: readonly (PinOperation | UnpinOperation)[]
  readonly requestId?: string
}

/** What consensus writes into a Raft log entry (see `encodeOperation`). */
export type Operation = PinOperation | UnpinOperation | BatchOperation

/** The version of the operation encoding this build writes (the first byte of every entry). */
export const operationFormatVersion = 1
/** The longest request id, in UTF-8 bytes. */
export const maxRequestIdBytes = 256

const kind = { pin: 1, unpin: 2, batch: 3 } as const

/** An operation item as `apply` uses it: validated fields, binary CID keys. */
export type DecodedItem =
  | {
      readonly type: 'pin'
      readonly requestId: string | null
      readonly fields: PinFields
      readonly cid: CID
    }
  | {
      readonly type: 'unpin'
      readonly requestId: string | null
      readonly key: string
      readonly cid: CID
    }

export type DecodedCommand =
  | DecodedItem
  | {
      readonly type: 'batch'
      readonly requestId: string | null
      readonly items: readonly DecodedItem[]
    }

function writeRequestId(writer: ByteWriter, requestId: string | undefined): void {
  if (requestId === undefined) {
    writer.byte(0)
    return
  }
  if (typeof requestId !== 'string' || requestId.length === 0 || !isWellFormed(requestId)) {
    throw new InvalidOperationError('requestId must be a non-empty, well-formed string when given')
  }
  // Checked once written: the writer is reset for every operation, and a throw discards it.
  const length = writer.string(requestId)
  if (length > maxRequestIdBytes) {
    throw new InvalidOperationError(
      `requestId must be at most ${maxRequestIdBytes} UTF-8 bytes, got ${length}`,
    )
  }
}

function writeItem(
  writer: ByteWriter,
  operation: PinOperation | UnpinOperation,
  peers: PeerDictionaryWriter,
): void {
  if (operation === null || typeof operation !== 'object')
    throw new InvalidOperationError('an operation must be an object')
  switch (operation.type) {
    case 'pin': {
      const fields = validatePinRecordFields(operation.pin)
      writer.byte(kind.pin)
      writeRequestId(writer, operation.requestId)
      writer.lengthPrefixedBinary(fields.cid)
      writePinBody(writer, fields, peers.write)
      return
    }
    case 'unpin': {
      const cid = parseCid(operation.cid)
      writer.byte(kind.unpin)
      writeRequestId(writer, operation.requestId)
      writer.lengthPrefixedBinary(cidKey(cid))
      return
    }
    default:
      throw new InvalidOperationError(
        `operation type must be "pin" or "unpin"${(operation as { type?: unknown }).type === 'batch' ? ' inside a batch (batches do not nest)' : ''}, got ${JSON.stringify((operation as { type?: unknown }).type)}`,
      )
  }
}

const sharedWriter = new ByteWriter(128)

/**
 * Encodes an operation for a Raft log entry: a version byte, then a compact binary form that is
 * unique for a given operation (the same pin always gives the same bytes). Validates the pins
 * first: throws `InvalidPinError`, `InvalidCidError` or `InvalidOperationError`.
 */
export function encodeOperation(operation: Operation): Uint8Array {
  // One buffer for every call (the result is copied out): a fresh one per pin was 4 % of an
  // import's CPU. Encoding is synchronous, so no two calls share it at once.
  const writer = sharedWriter
  writer.reset()
  writer.byte(operationFormatVersion)
  const peers = new PeerDictionaryWriter()
  if (operation !== null && typeof operation === 'object' && operation.type === 'batch') {
    if (!Array.isArray(operation.operations))
      throw new InvalidOperationError('a batch needs an operations array')
    writer.byte(kind.batch)
    writeRequestId(writer, operation.requestId)
    writer.varint(operation.operations.length)
    for (const item of operation.operations) writeItem(writer, item, peers)
  } else {
    writeItem(writer, operation as PinOperation | UnpinOperation, peers)
  }
  return writer.toBytes()
}

function readRequestId(reader: BinaryReader): string | null {
  const start = reader.offset
  const length = reader.varint()
  if (length === 0) return null
  if (length > maxRequestIdBytes) throw new DecodeFailure('request id is too long')
  reader.offset = start
  return reader.string()
}

function readCid(reader: BinaryReader, data: Uint8Array): { key: string; cid: CID } {
  const length = reader.varint()
  const start = reader.offset
  if (length > reader.remaining) throw new DecodeFailure('unexpected end of data')
  reader.offset += length
  let cid: CID
  try {
    // A view of the entry, not a copy: small copies cost more than the decode itself.
    cid = decodeCanonicalCid(data.subarray(start, start + length))
  } catch (error) {
    throw new DecodeFailure(`invalid CID: ${(error as Error).message}`)
  }
  return { key: bytesToBinary(data, start, start + length), cid }
}

function readItem(
  reader: BinaryReader,
  data: Uint8Array,
  peers: PeerDictionaryReader,
): DecodedItem {
  const itemKind = reader.byte()
  const requestId = readRequestId(reader)
  if (itemKind === kind.pin) {
    const { key, cid } = readCid(reader, data)
    return { type: 'pin', requestId, fields: readPinBody(reader, key, peers.read), cid }
  }
  if (itemKind === kind.unpin) {
    const { key, cid } = readCid(reader, data)
    return { type: 'unpin', requestId, key, cid }
  }
  throw new DecodeFailure(`unknown operation kind ${itemKind}`)
}

/** Decodes into the form `apply` uses; throws `MalformedOperationError`. */
export function decodeCommand(data: Uint8Array): DecodedCommand {
  if (!(data instanceof Uint8Array)) throw new MalformedOperationError('an operation must be bytes')
  const reader = new BinaryReader(bytesToBinary(data))
  try {
    const version = reader.byte()
    if (version !== operationFormatVersion) {
      throw new DecodeFailure(
        `unknown operation format version ${version} (this build reads version ${operationFormatVersion}); upgrade this peer`,
      )
    }
    const peers = new PeerDictionaryReader()
    let command: DecodedCommand
    if (reader.source.charCodeAt(reader.offset) === kind.batch) {
      reader.offset++
      const requestId = readRequestId(reader)
      const count = reader.varint()
      if (count > reader.remaining) throw new DecodeFailure('batch count exceeds the data')
      const items: DecodedItem[] = []
      for (let i = 0; i < count; i++) items.push(readItem(reader, data, peers))
      command = { type: 'batch', requestId, items }
    } else {
      command = readItem(reader, data, peers)
    }
    if (reader.remaining !== 0)
      throw new DecodeFailure(`${reader.remaining} bytes follow the operation`)
    return command
  } catch (error) {
    if (error instanceof DecodeFailure)
      throw new MalformedOperationError(`malformed operation: ${error.message}`)
    throw error
  }
}

function publicItem(item: DecodedItem): PinOperation | UnpinOperation {
  const requestId = item.requestId === null ? {} : { requestId: item.requestId }
  return item.type === 'pin'
    ? { type: 'pin', pin: fieldsToPin(item.fields, item.cid), ...requestId }
    : { type: 'unpin', cid: item.cid, ...requestId }
}

/**
 * Decodes a log entry written by `encodeOperation`. Pins come back validated with every field
 * set. Throws `MalformedOperationError` for bytes that are not an operation.
 */
export function decodeOperation(data: Uint8Array): Operation {
  const command = decodeCommand(data)
  if (command.type !== 'batch') return publicItem(command)
  return {
    type: 'batch',
    operations: command.items.map(publicItem),
    ...(command.requestId === null ? {} : { requestId: command.requestId }),
  }
}
