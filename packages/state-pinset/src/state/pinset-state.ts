import type { AbortOptions, Command, StateMachine } from '@pinraft/raft-core'
import type { CID } from 'multiformats/cid'
import { cidKey, parseCid } from '../cid.ts'
import { sortBinaryStrings } from '../encoding/binary-sort.ts'
import { BinaryReader, ByteWriter } from '../encoding/bytes.ts'
import {
  readPinBody,
  recordKey,
  recordKeyLength,
  visitBodyPeers,
  writePinBody,
} from '../encoding/pin-record.ts'
import { StateChangedDuringSnapshotError } from '../errors.ts'
import type { DecodedCommand, DecodedItem } from '../operation/operation.ts'
import { decodeCommand } from '../operation/operation.ts'
import type { PinFields } from '../pin/fields.ts'
import { equivalentPins, fieldsToPin } from '../pin/fields.ts'
import type { Pin, PinInput } from '../pin/pin.ts'
import { validatePinRecordFields } from '../pin/validate.ts'
import { readSnapshot } from '../snapshot/snapshot-reader.ts'
import { writeSnapshot } from '../snapshot/snapshot-writer.ts'
import type { ApplyResult, OperationOutcome } from './apply-result.ts'
import type { PinsetContents } from './contents.ts'
import { emptyContents } from './contents.ts'
import { TypedEventTarget } from './typed-event-target.ts'

/** How many applied request ids the state remembers by default. */
export const defaultRequestIdCapacity = 10_000

export interface PinsetStateInit {
  /**
   * How many recently applied request ids to remember for skipping retries. Part of the
   * replicated state: every peer must start with the same value, and a restored snapshot brings
   * its own.
   */
  requestIdCapacity?: number
}

export interface PinAddEventDetail {
  /** The pin now stored. */
  readonly pin: Pin
  /** The pin it replaced, or null for a new pin. */
  readonly previous: Pin | null
  /** The log index of the command that made the change. */
  readonly index: number
}

export interface PinRemoveEventDetail {
  /** The pin that was removed. */
  readonly pin: Pin
  readonly index: number
}

export interface StateRestoreEventDetail {
  /** The number of pins after the restore. */
  readonly count: number
}

/** See `PinsetState.bulkLoad`. */
export interface PinsetBulkLoad {
  /** Adds an encoded pin operation (no request id); throws for anything else. */
  add(data: Uint8Array): void
  /**
   * Adds a pin as `add(encodeOperation({ type: 'pin', pin }))` would, without encoding and
   * decoding it: validated as `validatePin` does; throws `InvalidPinError` or `InvalidCidError`.
   */
  addPin(pin: PinInput): void
  /** Puts the pins in the state; the load takes nothing more after. */
  finish(): void
}

/** The events a pinset emits, synchronously, as each change is applied. */
export interface PinsetEvents extends Record<string, unknown> {
  'pin:add': PinAddEventDetail
  'pin:remove': PinRemoveEventDetail
  'state:restore': StateRestoreEventDetail
}

export interface ListOptions extends AbortOptions {
  /** List only pins whose CID comes after this one (for paging). */
  after?: CID | string
}

/** How many pins `list` yields before giving the event loop a turn. */
const listTurn = 4096

/**
 * The replicated pinset: raft-core's state machine for the service. Commands are operations
 * encoded with `encodeOperation`; `apply` is deterministic and never throws for bad bytes (they
 * give a `rejected` result), so every replica holds the same pins and writes the same snapshot.
 */
export class PinsetState
  extends TypedEventTarget<PinsetEvents>
  implements StateMachine<ApplyResult>
{
  #contents: PinsetContents
  /** Bumped by every change, including a recorded request id, so snapshots can detect them. */
  #changes = 0
  readonly #writer = new ByteWriter(256)

  constructor(init: PinsetStateInit = {}) {
    super()
    const capacity = init.requestIdCapacity ?? defaultRequestIdCapacity
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(`requestIdCapacity must be a whole number ≥ 0, got ${capacity}`)
    }
    this.#contents = emptyContents(capacity)
  }

  /** How many applied request ids this state remembers. */
  get requestIdCapacity(): number {
    return this.#contents.requests.capacity
  }

  /** Whether an operation with this request id was applied recently (and a retry would be skipped). */
  hasApplied(requestId: string): boolean {
    return this.#contents.requests.has(requestId)
  }

  apply(command: Command): ApplyResult {
    let decoded: DecodedCommand
    try {
      decoded = decodeCommand(command.data)
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error))
      return { kind: 'rejected', error: { name, message } }
    }
    return this.#applyCommand(decoded, command.index)
  }

  #applyCommand(command: DecodedCommand, index: number): ApplyResult {
    if (command.type !== 'batch') return this.#applyItem(command, index)
    const { requests } = this.#contents
    if (command.requestId !== null) {
      if (requests.has(command.requestId))
        return { kind: 'duplicate-batch', requestId: command.requestId }
      requests.add(command.requestId)
      this.#changes++
    }
    return { kind: 'batch', results: command.items.map((item) => this.#applyItem(item, index)) }
  }

  #applyItem(item: DecodedItem, index: number): OperationOutcome {
    const { requests } = this.#contents
    if (item.requestId !== null) {
      if (requests.has(item.requestId))
        return { kind: 'duplicate', requestId: item.requestId, cid: item.cid }
      requests.add(item.requestId)
      this.#changes++
    }
    return item.type === 'pin'
      ? this.#pin(item.fields, item.cid, index)
      : this.#unpin(item.key, item.cid, index)
  }

  #pin(fields: PinFields, cid: CID, index: number): OperationOutcome {
    const { records } = this.#contents
    const existing = records.get(fields.cid)
    let previous: PinFields | null = null
    if (existing !== undefined) {
      previous = this.#decode(existing)
      if (equivalentPins(previous, fields)) return { kind: 'unchanged', cid }
    }
    records.set(fields.cid, this.#record(fields))
    if (existing !== undefined) this.#releasePeers(existing)
    this.#changes++
    if (this.listens('pin:add')) {
      this.emit('pin:add', {
        pin: fieldsToPin(fields, cid),
        previous: previous === null ? null : fieldsToPin(previous, cid),
        index,
      })
    }
    return { kind: existing === undefined ? 'pinned' : 'updated', cid }
  }

  /**
   * Loads pins into this state, which must be empty, faster than `apply` one by one: `add` takes
   * encoded pin operations (`encodeOperation`, without a request id), and `finish` leaves the state
   * as applying them in that order would (a CID added twice keeps the later pin, unless the two
   * are equivalent), with no events. The records are sorted once and appended: a sorted insert
   * per pin moves half a chunk each time, and with a million pins that was most of an import.
   * The state must not be used until `finish`.
   */
  bulkLoad(): PinsetBulkLoad {
    const contents = this.#contents
    if (contents.records.size > 0 || contents.requests.size > 0) {
      throw new Error('bulkLoad needs an empty pinset')
    }
    const pending: string[] = []
    let finished = false
    return {
      add: (data: Uint8Array): void => {
        if (finished) throw new Error('this bulk load is finished')
        const command = decodeCommand(data)
        if (command.type !== 'pin' || command.requestId !== null) {
          throw new TypeError('bulkLoad takes pin operations without a request id')
        }
        pending.push(this.#record(command.fields))
      },
      addPin: (pin: PinInput): void => {
        if (finished) throw new Error('this bulk load is finished')
        pending.push(this.#record(validatePinRecordFields(pin)))
      },
      finish: (): void => {
        if (finished) throw new Error('this bulk load is finished')
        finished = true
        if (this.#contents !== contents || contents.records.size > 0) {
          throw new Error('the pinset changed during its bulk load: load it into a fresh one')
        }
        this.#appendSorted(pending)
        pending.length = 0
        this.#changes++
      },
    }
  }

  /**
   * Appends `pending` (records in the order they were added) in CID order. Records of one CID
   * sort next to each other (no CID is a prefix of another), and those are settled in the order
   * they were added, as `#pin` would.
   */
  #appendSorted(pending: string[]): void {
    const { records } = this.#contents
    // Byte order, the order SortedRecords keeps.
    const sorted = sortBinaryStrings(pending)
    // A CID given more than once: its key, and where its group starts in `sorted`. The rest of
    // the group is blanked out; the winner goes to the group's first place.
    let repeated: Map<string, number> | undefined
    let groupKey = ''
    let groupStart = 0
    for (let i = 0; i < sorted.length; i++) {
      const record = sorted[i]!
      if (groupKey !== '' && record.startsWith(groupKey)) {
        repeated ??= new Map()
        repeated.set(groupKey, groupStart)
        sorted[i] = ''
        continue
      }
      groupKey = recordKey(record)
      groupStart = i
    }
    if (repeated !== undefined) {
      const winners = new Map<string, string>()
      for (const record of pending) {
        const key = recordKey(record)
        if (!repeated.has(key)) continue
        const current = winners.get(key)
        if (current === undefined) {
          winners.set(key, record)
        } else if (equivalentPins(this.#decode(current), this.#decode(record))) {
          this.#releasePeers(record)
        } else {
          this.#releasePeers(current)
          winners.set(key, record)
        }
      }
      for (const [key, start] of repeated) sorted[start] = winners.get(key)!
    }
    for (const record of sorted) if (record !== '') records.append(record)
  }

  /** The record of a pin: its CID, then its body; acquires the peers it names. */
  #record(fields: PinFields): string {
    const writer = this.#writer
    writer.reset()
    writer.binary(fields.cid)
    writePinBody(writer, fields, this.#contents.peers.writeAcquiring)
    return writer.toBinary()
  }

  #unpin(key: string, cid: CID, index: number): OperationOutcome {
    const existing = this.#contents.records.delete(key)
    if (existing === undefined) return { kind: 'absent', cid }
    const removed = this.listens('pin:remove') ? this.#decode(existing) : null
    this.#releasePeers(existing)
    this.#changes++
    if (removed !== null) this.emit('pin:remove', { pin: fieldsToPin(removed, cid), index })
    return { kind: 'unpinned', cid }
  }

  #releasePeers(record: string): void {
    visitBodyPeers(
      new BinaryReader(record, recordKeyLength(record)),
      this.#contents.peers.readReleasing,
    )
  }

  #decode(record: string): PinFields {
    const keyLength = recordKeyLength(record)
    return readPinBody(
      new BinaryReader(record, keyLength),
      record.slice(0, keyLength),
      this.#contents.peers.read,
    )
  }

  /** The pin of a CID (a CID object, its string in any multibase, or its bytes), if pinned. */
  get(cid: CID | string | Uint8Array): Pin | undefined {
    const parsed = parseCid(cid)
    const record = this.#contents.records.get(cidKey(parsed))
    return record === undefined ? undefined : fieldsToPin(this.#decode(record), parsed)
  }

  has(cid: CID | string | Uint8Array): boolean {
    return this.#contents.records.get(cidKey(parseCid(cid))) !== undefined
  }

  /**
   * Throws if the structure's invariants do not hold (for tests): the sorted records', and the
   * peer table counting exactly the references the records hold.
   */
  checkStructure(): void {
    const { records, peers } = this.#contents
    records.checkStructure()
    const references = new Map<number, number>()
    const count = (reader: BinaryReader): string => {
      const index = reader.varint()
      references.set(index, (references.get(index) ?? 0) + 1)
      return ''
    }
    for (const record of records.records()) {
      visitBodyPeers(new BinaryReader(record, recordKeyLength(record)), count)
    }
    peers.checkCounts(references)
  }

  /** The number of pins. */
  count(): number {
    return this.#contents.records.size
  }

  /**
   * Every pin in CID order (by the CID's bytes), streamed: it holds one pin at a time. If the
   * state changes while listing, the listing carries on after the last CID it returned.
   */
  async *list(options: ListOptions = {}): AsyncGenerator<Pin> {
    const after = options.after === undefined ? undefined : cidKey(parseCid(options.after))
    const contents = this.#contents
    let sinceTurn = 0
    for (const record of contents.records.records(after)) {
      if (this.#contents !== contents) return
      options.signal?.throwIfAborted()
      yield fieldsToPin(this.#decode(record))
      if (++sinceTurn === listTurn) {
        sinceTurn = 0
        await new Promise((resolve) => setTimeout(resolve, 0))
      }
    }
  }

  /** The whole state as a stream of snapshot chunks (format in `snapshot/format.ts`). */
  snapshot(options?: AbortOptions): AsyncIterable<Uint8Array> {
    const contents = this.#contents
    const changes = this.#changes
    const checkUnchanged = (): void => {
      if (this.#contents !== contents || this.#changes !== changes)
        throw new StateChangedDuringSnapshotError()
    }
    return writeSnapshot(contents, checkUnchanged, options)
  }

  /**
   * Replaces the whole state with a snapshot's. The snapshot is read and checked completely
   * before anything is replaced: on any error the state is unchanged.
   */
  async restore(data: AsyncIterable<Uint8Array>, options?: AbortOptions): Promise<void> {
    const contents = await readSnapshot(data, options)
    options?.signal?.throwIfAborted()
    this.#contents = contents
    this.#changes++
    if (this.listens('state:restore')) this.emit('state:restore', { count: contents.records.size })
  }
}

/** Creates an empty pinset. */
export function createPinsetState(init?: PinsetStateInit): PinsetState {
  return new PinsetState(init)
}
