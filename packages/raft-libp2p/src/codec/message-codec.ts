import type {
  Configuration,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  SnapshotMetadata,
} from '@pinraft/raft-core'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MalformedFrameError } from '../errors.ts'
import * as pb from '../pb/raft.gen.ts'

/** Wire codes of the message types (see raft.proto); 0 is never valid. */
const messageTypeCodes: Readonly<Record<MessageType, number>> = {
  append: 1,
  'append-response': 2,
  heartbeat: 3,
  'heartbeat-response': 4,
  vote: 5,
  'pre-vote': 6,
  'vote-response': 7,
  'pre-vote-response': 8,
  snapshot: 9,
  'timeout-now': 10,
  'read-index': 11,
  'read-index-response': 12,
}
const messageTypesByCode = new Map<number, MessageType>(
  Object.entries(messageTypeCodes).map(([type, code]) => [code, type as MessageType]),
)

const entryTypeCodes: Readonly<Record<EntryType, number>> = {
  normal: 1,
  configuration: 2,
  noop: 3,
}
const entryTypesByCode = new Map<number, EntryType>(
  Object.entries(entryTypeCodes).map(([type, code]) => [code, type as EntryType]),
)

/** The protobuf form of a message; `from` and `to` stay off the wire (see raft.proto). */
export function toWireMessage(message: Message): pb.RaftMessage {
  const wire: Partial<pb.RaftMessage> & { type: number; term: number } = {
    type: messageTypeCodes[message.type],
    term: message.term,
  }
  switch (message.type) {
    case 'append':
      wire.index = message.index
      wire.logTerm = message.logTerm
      wire.commit = message.commit
      wire.entries = message.entries.map(toWireEntry)
      break
    case 'append-response':
      wire.index = message.index
      wire.reject = message.reject
      wire.rejectHint = message.rejectHint
      wire.logTerm = message.logTerm
      break
    case 'heartbeat':
      wire.commit = message.commit
      wire.context = message.context
      break
    case 'heartbeat-response':
    case 'read-index':
      wire.context = message.context
      break
    case 'vote':
    case 'pre-vote':
      wire.index = message.index
      wire.logTerm = message.logTerm
      wire.transfer = message.transfer
      break
    case 'vote-response':
    case 'pre-vote-response':
      wire.reject = message.reject
      break
    case 'snapshot':
      wire.snapshot = toWireSnapshotMetadata(message.snapshot)
      break
    case 'timeout-now':
      break
    case 'read-index-response':
      wire.index = message.index
      wire.context = message.context
      break
    default: {
      const unknown: never = message
      throw new MalformedFrameError(
        `cannot encode a message of unknown type ${JSON.stringify(unknown)}`,
      )
    }
  }
  return wire as pb.RaftMessage
}

export function encodeMessage(message: Message): Uint8Array {
  return pb.RaftMessage.encode(toWireMessage(message))
}

/**
 * Decodes a message that arrived from `from` for `to`. Throws a `MalformedFrameError` for bytes
 * that are not a valid message of a known type.
 */
export function decodeMessage(
  bytes: Uint8Array | Uint8ArrayList,
  from: NodeId,
  to: NodeId,
): Message {
  let wire: pb.RaftMessage
  try {
    wire = pb.RaftMessage.decode(bytes)
  } catch (err) {
    throw new MalformedFrameError(
      `a frame is not a protobuf RaftMessage: ${(err as Error).message}`,
    )
  }
  return fromWireMessage(wire, from, to)
}

export function fromWireMessage(wire: pb.RaftMessage, from: NodeId, to: NodeId): Message {
  const type = messageTypesByCode.get(wire.type)
  if (type === undefined) {
    throw new MalformedFrameError(
      `unknown message type code ${wire.type}; the peer may run a newer protocol version`,
    )
  }
  const term = checkedInteger(wire.term, 'term')
  switch (type) {
    case 'append':
      return {
        type,
        from,
        to,
        term,
        index: checkedInteger(wire.index, 'index'),
        logTerm: checkedInteger(wire.logTerm, 'logTerm'),
        commit: checkedInteger(wire.commit, 'commit'),
        entries: wire.entries.map(fromWireEntry),
      }
    case 'append-response':
      return {
        type,
        from,
        to,
        term,
        index: checkedInteger(wire.index, 'index'),
        reject: wire.reject,
        rejectHint: checkedInteger(wire.rejectHint, 'rejectHint'),
        logTerm: checkedInteger(wire.logTerm, 'logTerm'),
      }
    case 'heartbeat':
      return {
        type,
        from,
        to,
        term,
        commit: checkedInteger(wire.commit, 'commit'),
        context: wire.context,
      }
    case 'heartbeat-response':
    case 'read-index':
      return { type, from, to, term, context: wire.context }
    case 'vote':
    case 'pre-vote':
      return {
        type,
        from,
        to,
        term,
        index: checkedInteger(wire.index, 'index'),
        logTerm: checkedInteger(wire.logTerm, 'logTerm'),
        transfer: wire.transfer,
      }
    case 'vote-response':
    case 'pre-vote-response':
      return { type, from, to, term, reject: wire.reject }
    case 'snapshot':
      if (wire.snapshot === undefined) {
        throw new MalformedFrameError('a snapshot message has no snapshot metadata')
      }
      return { type, from, to, term, snapshot: fromWireSnapshotMetadata(wire.snapshot) }
    case 'timeout-now':
      return { type, from, to, term }
    case 'read-index-response':
      return {
        type,
        from,
        to,
        term,
        index: checkedInteger(wire.index, 'index'),
        context: wire.context,
      }
    default: {
      const unknown: never = type
      throw new MalformedFrameError(`unhandled message type ${String(unknown)}`)
    }
  }
}

function toWireEntry(entry: Entry): pb.Entry {
  return {
    index: entry.index,
    term: entry.term,
    type: entryTypeCodes[entry.type],
    data: entry.data as Uint8Array<ArrayBuffer>,
  }
}

function fromWireEntry(wire: pb.Entry): Entry {
  const type = entryTypesByCode.get(wire.type)
  if (type === undefined) {
    throw new MalformedFrameError(`unknown entry type code ${wire.type}`)
  }
  return {
    index: checkedInteger(wire.index, 'entry index'),
    term: checkedInteger(wire.term, 'entry term'),
    type,
    data: plainBytes(wire.data),
  }
}

/**
 * A view of `bytes` as a plain Uint8Array: bytes read from a socket are Node Buffers, whose
 * `slice` shares memory where a Uint8Array's copies; consumers must not meet that surprise.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function toWireSnapshotMetadata(metadata: SnapshotMetadata): pb.SnapshotMetadata {
  return {
    index: metadata.index,
    term: metadata.term,
    configuration: {
      voters: [...metadata.configuration.voters],
      nonVoters: [...metadata.configuration.nonVoters],
      staging: [...metadata.configuration.staging],
    },
  }
}

function fromWireSnapshotMetadata(wire: pb.SnapshotMetadata): SnapshotMetadata {
  const configuration: Configuration = {
    voters: wire.configuration?.voters ?? [],
    nonVoters: wire.configuration?.nonVoters ?? [],
    staging: wire.configuration?.staging ?? [],
  }
  return {
    index: checkedInteger(wire.index, 'snapshot index'),
    term: checkedInteger(wire.term, 'snapshot term'),
    configuration,
  }
}

/** uint64 fields decode to numbers; past 2^53 they lose precision, which Raft cannot accept. */
function checkedInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MalformedFrameError(`field ${field} holds ${value}, not a safe non-negative integer`)
  }
  return value
}
