import type { AbortOptions, ConsensusEvents, PinsetView } from '@pinraft/consensus'
import {
  type CID,
  createPinsetState,
  encodeOperation,
  type Pin,
  type PinInput,
  parseCid,
  validatePin,
} from '@pinraft/state-pinset'

type FollowedEvent = 'pin:add' | 'pin:remove' | 'state:restore'

/**
 * One replicated pinset shared by the peers of a test, applied through a real state machine:
 * every peer's view (`peer(id)`) sees each applied operation as consensus would announce it.
 */
export class MemoryConsensusGroup {
  readonly pinset = createPinsetState()
  readonly members: string[] = []
  readonly #views = new Set<MemoryConsensus>()
  #index = 0

  constructor(members: readonly string[] = []) {
    this.members.push(...members)
    this.pinset.addEventListener('pin:add', (event) => {
      for (const view of this.#views) view.announce('pin:add', { pin: event.detail.pin })
    })
    this.pinset.addEventListener('pin:remove', (event) => {
      for (const view of this.#views) {
        view.announce('pin:remove', { cid: event.detail.pin.cid.toString() })
      }
    })
    this.pinset.addEventListener('state:restore', (event) => {
      for (const view of this.#views) view.announce('state:restore', { count: event.detail.count })
    })
  }

  /** A peer's consensus: it follows the shared pinset until `detach()` (a stopped peer). */
  peer(peerId: string): MemoryConsensus {
    if (!this.members.includes(peerId)) this.members.push(peerId)
    const view = new MemoryConsensus(peerId, this)
    this.#views.add(view)
    return view
  }

  /** @internal */
  detach(view: MemoryConsensus): void {
    this.#views.delete(view)
  }

  /** Applies a pin, as a committed LogPin would on every peer. */
  pin(input: PinInput): Pin {
    const pin = validatePin(input)
    this.pinset.apply({
      index: ++this.#index,
      term: 1,
      data: encodeOperation({ type: 'pin', pin }),
    })
    return this.pinset.get(pin.cid) ?? pin
  }

  unpin(cid: CID | string): void {
    this.pinset.apply({
      index: ++this.#index,
      term: 1,
      data: encodeOperation({ type: 'unpin', cid: parseCid(cid) }),
    })
  }

  /** Replaces the whole pinset, as installing a snapshot does (`state:restore`). */
  async restore(pins: readonly PinInput[]): Promise<void> {
    const other = createPinsetState()
    let index = 0
    for (const pin of pins) {
      other.apply({ index: ++index, term: 1, data: encodeOperation({ type: 'pin', pin }) })
    }
    await this.pinset.restore(other.snapshot())
  }
}

/**
 * The part of `Consensus` the tracker and the cluster use, over a `MemoryConsensusGroup`:
 * events, the pinset, the peerset, LogPin and LogUnpin.
 */
export class MemoryConsensus {
  readonly peerId: string
  readonly group: MemoryConsensusGroup
  readonly #events = new EventTarget()

  constructor(peerId: string, group: MemoryConsensusGroup) {
    this.peerId = peerId
    this.group = group
  }

  /** @internal */
  announce<K extends FollowedEvent>(type: K, detail: ConsensusEvents[K]): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }

  /** Stops following the group (the peer is down). */
  detach(): void {
    this.group.detach(this)
  }

  addEventListener<K extends keyof ConsensusEvents>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void {
    this.#events.addEventListener(type, listener as (event: Event) => void, options)
  }

  removeEventListener<K extends keyof ConsensusEvents>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
  ): void {
    this.#events.removeEventListener(type, listener as (event: Event) => void)
  }

  state(): PinsetView {
    const pinset = this.group.pinset
    return {
      get: (cid) => pinset.get(cid),
      has: (cid) => pinset.has(cid),
      count: () => pinset.count(),
      list: (options) => pinset.list(options),
    }
  }

  async peers(_options?: AbortOptions): Promise<string[]> {
    return [...this.group.members].sort()
  }

  async logPin(input: PinInput, _options?: AbortOptions): Promise<Pin> {
    return this.group.pin(input)
  }

  async logUnpin(cid: string, _options?: AbortOptions): Promise<void> {
    this.group.unpin(cid)
  }

  async readIndex(_options?: AbortOptions): Promise<number> {
    return 0
  }
}
