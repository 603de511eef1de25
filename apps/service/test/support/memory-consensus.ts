import type {
  AbortOptions,
  Consensus,
  ConsensusEvents,
  ConsensusStatus,
  PinsetView,
} from '@pinraft/consensus'
import { LastPeerError } from '@pinraft/consensus'
import {
  createPinsetState,
  encodeOperation,
  type Pin,
  type PinInput,
  parseCid,
  validatePin,
} from '@pinraft/state-pinset'

/**
 * An in-memory `Consensus` for route tests: a real pinset state machine fed directly, a peerset
 * kept in a list, and errors that can be queued to be thrown by the next operation.
 */
export class MemoryConsensus implements Consensus {
  readonly #events = new EventTarget()
  readonly peerId: string
  isReady = true
  /** Put into `status()` as consensus's `waitingFor` may be, when set. */
  waitingFor: string | undefined
  leaderKnown = true
  readonly pinset = createPinsetState()
  members: string[]
  role: ConsensusStatus['role'] = 'leader'
  latencies: number[] = []
  /** What status() reports as proposals forwarded (a test sets it). */
  forwarded = 0
  readonly #applyListeners = new Set<(milliseconds: number) => void>()
  readonly calls: { method: string; argument: unknown }[] = []
  #index = 0
  #failures: Error[] = []

  constructor(peerId: string, others: string[] = []) {
    this.peerId = peerId
    this.members = [peerId, ...others].sort()
  }

  /** The next operation (logPin, logUnpin, addPeer, rmPeer, peers) throws an error of this name. */
  failNext(name: string, message = `simulated ${name}`): void {
    const error = new Error(message)
    error.name = name
    this.#failures.push(error)
  }

  #maybeFail(method: string, argument: unknown): void {
    this.calls.push({ method, argument })
    const failure = this.#failures.shift()
    if (failure !== undefined) throw failure
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

  /** Emits a consensus event, as the real one does. */
  dispatch<K extends keyof ConsensusEvents>(type: K, detail: ConsensusEvents[K]): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }

  async ready(): Promise<void> {}

  async logPin(input: PinInput, _options?: AbortOptions): Promise<Pin> {
    this.#maybeFail('logPin', input)
    const pin = validatePin(input)
    this.pinset.apply({
      index: ++this.#index,
      term: 1,
      data: encodeOperation({ type: 'pin', pin }),
    })
    this.latencies.push(2)
    for (const listener of this.#applyListeners) listener(0.05)
    const stored = this.pinset.get(pin.cid) ?? pin
    this.dispatch('pin:add', { pin: stored })
    return stored
  }

  async logUnpin(cid: string, _options?: AbortOptions): Promise<void> {
    this.#maybeFail('logUnpin', cid)
    this.pinset.apply({
      index: ++this.#index,
      term: 1,
      data: encodeOperation({ type: 'unpin', cid: parseCid(cid) }),
    })
    this.dispatch('pin:remove', { cid })
  }

  async addPeer(peerId: string): Promise<void> {
    this.#maybeFail('addPeer', peerId)
    if (!this.members.includes(peerId)) this.members = [...this.members, peerId].sort()
  }

  async rmPeer(peerId: string): Promise<void> {
    this.#maybeFail('rmPeer', peerId)
    if (this.members.length === 1 && this.members[0] === peerId)
      throw new LastPeerError(`cannot remove ${peerId}: it is the last peer`)
    this.members = this.members.filter((member) => member !== peerId)
  }

  state(): PinsetView {
    const pinset = this.pinset
    return {
      get: (cid) => pinset.get(cid),
      has: (cid) => pinset.has(cid),
      count: () => pinset.count(),
      list: (options) => pinset.list(options),
    }
  }

  async leader(): Promise<string> {
    return this.peerId
  }

  async peers(): Promise<string[]> {
    this.#maybeFail('peers', null)
    return [...this.members]
  }

  async waitForSync(): Promise<void> {}

  observeApply(listener: (milliseconds: number) => void): () => void {
    this.#applyListeners.add(listener)
    return () => this.#applyListeners.delete(listener)
  }

  async readIndex(options?: AbortOptions): Promise<number> {
    this.#maybeFail('readIndex', options?.signal !== undefined)
    return this.#index
  }

  status(): ConsensusStatus {
    return {
      peerId: this.peerId,
      role: this.role,
      leader: !this.leaderKnown ? null : this.role === 'leader' ? this.peerId : this.members[0]!,
      term: 3,
      commitIndex: this.#index,
      appliedIndex: this.#index,
      voters: [...this.members],
      nonVoters: [],
      pins: this.pinset.count(),
      ready: this.isReady,
      waitingFor: this.waitingFor ?? null,
      freshState: false,
      commitLatencies: [...this.latencies],
      proposalsForwarded: this.forwarded,
      snapshotsSent: 0,
      replication: Object.fromEntries(
        [...this.members]
          .filter((member) => member !== this.peerId && this.role === 'leader')
          .map((member) => [member, { match: this.#index, lag: 0 }]),
      ),
    }
  }

  async shutdown(): Promise<void> {}
  async clean(): Promise<void> {}
  async rollback(): Promise<void> {}
}
