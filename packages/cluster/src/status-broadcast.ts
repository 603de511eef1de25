import type { AbortOptions } from '@pinraft/consensus'
import type { PinInfo } from '@pinraft/pintracker'
import type { Logger } from '@pinraft/raft-core'
import { cidKey, validatePin } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import type { ClusterConsensus, ClusterStatusAllOptions, ClusterTracker } from './components.ts'
import { messageOf } from './error-message.ts'
import { addPinInfo, type GlobalPinInfo, toGlobal } from './global-pin-info.ts'
import { KnownPeers } from './known-peers.ts'
import type { ClusterLifetime } from './lifetime.ts'
import { type ClusterHost, requestPinInfo, requestPinInfoStream } from './rpc/cluster-protocol.ts'

export interface StatusBroadcastComponents {
  readonly libp2p: ClusterHost
  readonly consensus: ClusterConsensus
  readonly tracker: ClusterTracker
  readonly logger: Logger
  readonly lifetime: ClusterLifetime
}

export interface StatusBroadcastInit {
  readonly peername: string
  /** How long a peer has to answer for one CID. */
  readonly peerTimeout: number
  /** How long a peer may take between two frames of a streamed answer. */
  readonly frameTimeout: number
}

/** One peer's stream in the merge of `statusAll`: its next PinInfo, or why it stopped. */
interface Source {
  readonly peer: string
  readonly iterator: AsyncIterator<PinInfo>
  head: { info: PinInfo; order: string } | null
  failure: string | null
}

/**
 * Status and recover across the peers (1.x's globalPinInfoCid and its streamed StatusAll and
 * RecoverAll): this peer's tracker answers for itself, the others over the cluster protocol,
 * and their answers are merged into GlobalPinInfo.
 */
export class StatusBroadcast {
  readonly #peerId: string
  readonly #libp2p: ClusterHost
  readonly #consensus: ClusterConsensus
  readonly #tracker: ClusterTracker
  readonly #logger: Logger
  readonly #lifetime: ClusterLifetime
  readonly #peerTimeout: number
  readonly #frameTimeout: number
  readonly #known: KnownPeers

  constructor(components: StatusBroadcastComponents, init: StatusBroadcastInit) {
    this.#peerId = components.consensus.peerId
    this.#libp2p = components.libp2p
    this.#consensus = components.consensus
    this.#tracker = components.tracker
    this.#logger = components.logger
    this.#lifetime = components.lifetime
    this.#peerTimeout = init.peerTimeout
    this.#frameTimeout = init.frameTimeout
    this.#known = new KnownPeers(this.#peerId, init.peername)
  }

  /** The status of a CID, or its recovery, on every peer that should hold it. */
  async pinInfo(
    cid: CID,
    method: 'status' | 'recover',
    signal: AbortSignal,
  ): Promise<GlobalPinInfo> {
    const members = await this.#consensus.peers({ signal })
    const now = Date.now()
    const pin = this.#consensus.state().get(cid)
    if (pin === undefined) {
      // Not in the pinset: every member is unpinned, without asking (1.x).
      const absent = validatePin({ cid })
      const global = toGlobal(
        this.#known.entry(absent, members[0] ?? this.#peerId, 'unpinned', now),
      )
      for (const peer of members.slice(1))
        addPinInfo(global, this.#known.entry(absent, peer, 'unpinned', now))
      return global
    }
    const everywhere =
      pin.replicationFactorMin < 0 || pin.replicationFactorMax < 0 || pin.allocations.length === 0
    const destinations = everywhere ? members : [...pin.allocations]
    const remote = everywhere ? [] : members.filter((peer) => !pin.allocations.includes(peer))
    const global: GlobalPinInfo = {
      cid: pin.cid,
      name: pin.name,
      allocations: pin.allocations,
      origins: pin.origins,
      created: pin.timestamp,
      metadata: pin.metadata,
      peerMap: new Map(),
    }
    for (const peer of remote) addPinInfo(global, this.#known.entry(pin, peer, 'remote', now))
    const answers = await Promise.all(
      destinations.map(async (peer): Promise<PinInfo> => {
        try {
          if (peer === this.#peerId) {
            return method === 'status'
              ? await this.#tracker.status(pin.cid, { signal })
              : await this.#tracker.recover(pin.cid, { signal })
          }
          const info = await requestPinInfo(this.#libp2p, peer, method, pin.cid, {
            signal: AbortSignal.any([signal, AbortSignal.timeout(this.#peerTimeout)]),
          })
          this.#known.remember(info)
          return info
        } catch (error) {
          signal.throwIfAborted()
          this.#logger.warn('error in broadcast response', { peer, error: messageOf(error) })
          return this.#known.entry(pin, peer, 'cluster_error', Date.now(), messageOf(error))
        }
      }),
    )
    for (const info of answers) addPinInfo(global, info)
    return global
  }

  /**
   * Every pin's status on every peer (1.x's StatusAll), streamed: each peer streams its
   * statuses in the pinset's CID order and the streams are merged a CID at a time, so memory
   * stays bounded by the number of peers, not of pins. A peer that cannot be reached, or whose
   * stream breaks, is `cluster_error` with the reason for every CID from then on.
   */
  statusAll(options: ClusterStatusAllOptions): AsyncGenerator<GlobalPinInfo> {
    const filter = options.filter ?? null
    return this.#merged(
      (peer, signal) =>
        peer === this.#peerId
          ? this.#tracker.statusAll({ filter, signal })
          : requestPinInfoStream(
              this.#libp2p,
              peer,
              { kind: 'status-all', filter },
              { signal, frameTimeout: this.#frameTimeout },
            ),
      options,
    )
  }

  /** Recovers every pin on every peer (1.x's RecoverAll), streaming what each retried. */
  recoverAll(options: AbortOptions): AsyncGenerator<GlobalPinInfo> {
    return this.#merged(
      (peer, signal) =>
        peer === this.#peerId
          ? this.#tracker.recoverAll({ signal })
          : requestPinInfoStream(
              this.#libp2p,
              peer,
              { kind: 'recover-all' },
              { signal, frameTimeout: this.#frameTimeout },
            ),
      options,
    )
  }

  async *#merged(
    open: (peer: string, signal: AbortSignal) => AsyncIterable<PinInfo>,
    options: AbortOptions,
  ): AsyncGenerator<GlobalPinInfo> {
    const outer = this.#lifetime.streamSignal(options)
    const controller = new AbortController()
    const signal = AbortSignal.any([outer, controller.signal])
    const members = await this.#consensus.peers({ signal })
    const sources: Source[] = members.map((peer) => ({
      peer,
      iterator: open(peer, signal)[Symbol.asyncIterator](),
      head: null,
      failure: null,
    }))
    const advance = async (source: Source): Promise<void> => {
      try {
        const next = await source.iterator.next()
        source.head =
          next.done === true ? null : { info: next.value, order: cidKey(next.value.cid) }
        if (source.head !== null && source.peer !== this.#peerId)
          this.#known.remember(source.head.info)
      } catch (error) {
        source.head = null
        if (outer.aborted) throw error
        source.failure = messageOf(error)
        this.#logger.warn('error in broadcast response', {
          peer: source.peer,
          error: source.failure,
        })
      }
    }
    try {
      await Promise.all(sources.map(advance))
      let produced = 0
      for (;;) {
        let order: string | null = null
        for (const source of sources) {
          if (source.head !== null && (order === null || source.head.order < order)) {
            order = source.head.order
          }
        }
        if (order === null) break
        const current = sources.filter((source) => source.head?.order === order)
        const first = current[0]!.head!.info
        const global = toGlobal(first)
        for (const source of current.slice(1)) addPinInfo(global, source.head!.info)
        const now = Date.now()
        for (const source of sources) {
          if (source.failure === null) continue
          // 1.x: an errored peer gets a cluster_error entry for every CID, pin fields unset.
          const entry = this.#known.entry(
            validatePin({ cid: first.cid }),
            source.peer,
            'cluster_error',
            now,
            source.failure,
          )
          addPinInfo(global, { ...entry, name: '', created: null })
        }
        await Promise.all(current.map(advance))
        produced++
        yield global
      }
      const failed = sources.filter((source) => source.failure !== null)
      if (produced === 0 && failed.length === sources.length && failed.length > 0) {
        // Nobody answered: an error, not an empty list.
        throw new Error(failed.map((source) => `${source.peer}: ${source.failure}`).join('; '))
      }
    } finally {
      controller.abort()
      await Promise.allSettled(sources.map((source) => source.iterator.return?.()))
    }
  }
}
