import { peerIdFromString } from '@libp2p/peer-id'
import { blake2b } from '@noble/hashes/blake2.js'
import type { Clock, Logger } from '@pinraft/raft-core'
import type { CID } from 'multiformats/cid'
import type { ClusterConsensus } from './components.ts'
import { messageOf } from './error-message.ts'
import type { ClusterLifetime } from './lifetime.ts'

function hash(bytes: Uint8Array): Uint8Array {
  return blake2b(bytes, { dkLen: 32 })
}

function distance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const result = new Uint8Array(32)
  for (let i = 0; i < 32; i++) result[i] = a[i]! ^ b[i]!
  return result
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return 0
}

/**
 * Whether `self` is the member closest to `cid` (1.x's distanceChecker.isClosest): BLAKE2b-256
 * of the peer ID's bytes and of the CID's bytes, compared by XOR distance. Every peer computes
 * the same answer, so exactly one of them acts on a CID (ties go to every tied peer, as in 1.x).
 */
export function isClosest(cid: CID, self: string, others: readonly string[]): boolean {
  const target = hash(cid.bytes)
  const mine = distance(target, hash(peerIdFromString(self).toMultihash().bytes))
  for (const other of others) {
    if (other === self) continue
    const theirs = distance(target, hash(peerIdFromString(other).toMultihash().bytes))
    if (compare(mine, theirs) > 0) return false
  }
  return true
}

export interface StateSyncComponents {
  readonly consensus: ClusterConsensus
  readonly logger: Logger
  readonly clock: Clock
  readonly lifetime: ClusterLifetime
}

/**
 * 1.x's StateSync, run on demand and every `cluster.state_sync_interval` (ms; 0: never) once
 * started: expired pins are unpinned by the one member closest to each.
 */
export class StateSync {
  readonly #peerId: string
  readonly #consensus: ClusterConsensus
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #lifetime: ClusterLifetime
  readonly #interval: number
  #timer: unknown = null

  constructor(components: StateSyncComponents, interval: number) {
    this.#peerId = components.consensus.peerId
    this.#consensus = components.consensus
    this.#logger = components.logger
    this.#clock = components.clock
    this.#lifetime = components.lifetime
    this.#interval = interval
  }

  /** Syncs every interval from now on, until the cluster stops. */
  start(): void {
    this.#schedule()
  }

  #schedule(): void {
    if (this.#lifetime.stopped || this.#interval <= 0) return
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null
      void this.#lifetime
        .withSignal(undefined, (signal) => this.sync(signal))
        .catch((error: unknown) => {
          if (!this.#lifetime.stopped)
            this.#logger.warn('state sync failed', { error: messageOf(error) })
        })
        .finally(() => this.#schedule())
    }, this.#interval)
  }

  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
  }

  /**
   * 1.x's StateSync: unpins every pin whose `expire_at` has passed, on the one member closest to
   * its CID (so it is unpinned once, not by every peer). Resolves with how many it unpinned.
   */
  async sync(signal: AbortSignal): Promise<number> {
    const members = await this.#consensus.peers({ signal })
    const now = this.#clock.now()
    let unpinned = 0
    for await (const pin of this.#consensus.state().list({ signal })) {
      if (pin.expireAt === null || pin.expireAt >= now) continue
      if (!isClosest(pin.cid, this.#peerId, members)) continue
      this.#logger.info('unpinning an expired pin', {
        cid: pin.cid.toString(),
        expiredAt: new Date(pin.expireAt).toISOString(),
      })
      try {
        await this.#consensus.logUnpin(pin.cid.toString(), { signal })
        unpinned++
      } catch (error) {
        signal.throwIfAborted()
        this.#logger.error('could not unpin an expired pin', {
          cid: pin.cid.toString(),
          error: messageOf(error),
        })
      }
    }
    return unpinned
  }
}
