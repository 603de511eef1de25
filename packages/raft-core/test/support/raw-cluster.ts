import { seededRandom } from '../../sim/random.ts'
import { bootstrapState } from '../../src/configuration/bootstrap.ts'
import { makeConfiguration } from '../../src/configuration/configuration.ts'
import type { Message } from '../../src/message.ts'
import type { RaftOptions } from '../../src/raft/options.ts'
import type { InitialState } from '../../src/raft/raw-node.ts'
import { RawNode } from '../../src/raft/raw-node.ts'
import type { Entry, EntryType, NodeId, ReadState } from '../../src/types.ts'

/** Options for a test node: everything but `random`, which is seeded from the node id. */
export type TestOptions = Partial<Omit<RaftOptions, 'random'>> & { seed?: number }

const encoder = new TextEncoder()

/** An entry whose data names its position, so logs compare by content as well as by term. */
export function entry(index: number, term: number, type: EntryType = 'normal'): Entry {
  return { index, term, type, data: encoder.encode(`${index}@${term}`) }
}

/** A log from index 1 whose entry at index i + 1 has term `terms[i]`. */
export function logOfTerms(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => entry(i + 1, term))
}

/** The (index, term) pairs of a log, for readable comparisons. */
export function positions(entries: readonly Entry[]): Array<[number, number]> {
  return entries.map((e) => [e.index, e.term])
}

/**
 * The stored state of a node that already knows its configuration: a snapshot at index 0
 * carries it, so the log can begin at index 1 with any terms a scenario needs.
 */
export function storedState(parts: {
  voters: readonly NodeId[]
  nonVoters?: readonly NodeId[]
  entries?: readonly Entry[]
  term?: number
  vote?: NodeId | null
  commit?: number
}): InitialState {
  const configuration = makeConfiguration({
    voters: parts.voters,
    nonVoters: parts.nonVoters ?? [],
  })
  return {
    snapshot: { index: 0, term: 0, configuration },
    entries: parts.entries ?? [],
    hardState: { term: parts.term ?? 0, vote: parts.vote ?? null, commit: parts.commit ?? 0 },
  }
}

function seedOf(id: NodeId): number {
  let seed = 17
  for (const char of id) seed = (seed * 31 + char.charCodeAt(0)) >>> 0
  return seed
}

/** A RawNode with a deterministic random source; electionTicks 10 and heartbeatTicks 1 unless set. */
export function newRawNode(id: NodeId, initial: InitialState, options: TestOptions = {}): RawNode {
  const { seed, ...rest } = options
  return new RawNode(id, initial, {
    electionTicks: 10,
    heartbeatTicks: 1,
    ...rest,
    random: seededRandom(seed ?? seedOf(id)),
  })
}

/** What one node produced while being drained. */
export interface Drained {
  messages: Message[]
  committed: Entry[]
  readStates: ReadState[]
}

/**
 * Does what a driver does after an input: pulls every Ready, "persists" and applies it, and
 * collects the messages it would send (sent only after the state they depend on is durable).
 */
export function drain(raw: RawNode): Drained {
  const drained: Drained = { messages: [], committed: [], readStates: [] }
  for (let round = 0; raw.hasReady(); round++) {
    if (round > 1000) {
      throw new Error(`node ${raw.id} keeps producing Readies: a livelock in the core`)
    }
    const ready = raw.ready()
    drained.messages.push(...ready.messages)
    drained.committed.push(...ready.committedEntries)
    drained.readStates.push(...ready.readStates)
    raw.advance(ready)
  }
  return drained
}

/**
 * RawNodes joined by a deterministic in-order network. Every message a node sends is recorded
 * in `sent`; `drop` decides which ones are lost (partitions).
 */
export class RawCluster {
  readonly nodes = new Map<NodeId, RawNode>()
  /** Every message any node sent, in order, lost or not. */
  readonly sent: Message[] = []
  /** Committed entries each node handed out for application. */
  readonly applied = new Map<NodeId, Entry[]>()
  readonly readStates = new Map<NodeId, ReadState[]>()
  /** Returns true for a message the network loses. */
  drop: (message: Message) => boolean = () => false
  private readonly queue: Message[] = []

  /** A cluster of brand new nodes bootstrapped with `voters`, each with its bootstrap entry applied. */
  static bootstrap(voters: readonly NodeId[], options: TestOptions = {}): RawCluster {
    const cluster = new RawCluster()
    for (const id of voters) {
      cluster.add(newRawNode(id, bootstrapState(makeConfiguration({ voters })), options))
    }
    cluster.stabilize()
    return cluster
  }

  add(raw: RawNode): RawNode {
    this.nodes.set(raw.id, raw)
    this.applied.set(raw.id, [])
    this.readStates.set(raw.id, [])
    this.flush(raw.id)
    return raw
  }

  node(id: NodeId): RawNode {
    const raw = this.nodes.get(id)
    if (raw === undefined) throw new Error(`no node ${id} in the test cluster`)
    return raw
  }

  /** Cuts `id` off from every other node, both ways. */
  isolate(...ids: NodeId[]): void {
    this.drop = (message) => ids.includes(message.from) || ids.includes(message.to)
  }

  heal(): void {
    this.drop = () => false
  }

  /** Drains `id` and queues what it sends. */
  flush(id: NodeId): void {
    const drained = drain(this.node(id))
    this.applied.get(id)?.push(...drained.committed)
    this.readStates.get(id)?.push(...drained.readStates)
    for (const message of drained.messages) {
      this.sent.push(message)
      if (!this.drop(message)) this.queue.push(message)
    }
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).tick()
      this.flush(id)
    }
  }

  /** Ticks every node once, in id order, then delivers everything. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.nodes.keys()) this.tick(id)
      this.stabilize()
    }
  }

  /**
   * Delivers queued messages until the network is quiet. One at a time by default, draining the
   * receiver after each; `batched` instead steps every message queued for a node before draining
   * it, as a driver does with the messages that arrived during one turn.
   */
  stabilize(options: { batched?: boolean; limit?: number } = {}): void {
    const limit = options.limit ?? 100_000
    for (const id of this.nodes.keys()) this.flush(id)
    let delivered = 0
    while (this.queue.length > 0) {
      const batch =
        options.batched === true ? this.queue.splice(0) : [this.queue.shift() as Message]
      const receivers = new Set<NodeId>()
      for (const message of batch) {
        const target = this.nodes.get(message.to)
        if (target === undefined) continue
        target.step(message)
        receivers.add(message.to)
      }
      for (const id of receivers) this.flush(id)
      delivered += batch.length
      if (delivered > limit) {
        throw new Error(`the cluster did not settle within ${limit} messages`)
      }
    }
  }

  /** Has `id` campaign and lets the election run to its end. */
  elect(id: NodeId): RawNode {
    this.node(id).campaign()
    this.flush(id)
    this.stabilize()
    return this.node(id)
  }

  /** Messages sent so far that match `predicate`. */
  sentWhere(predicate: (message: Message) => boolean): Message[] {
    return this.sent.filter(predicate)
  }
}
