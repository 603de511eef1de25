import { cidKey, type Pin, parseCid } from '@pinraft/state-pinset'

/** Where one walk over the pinset is, and what finished ahead of it. */
export interface WalkState {
  /** CIDs pinned since the walk read the IPFS pin lists, ahead of its position. */
  readonly pinnedDuring: Set<string>
  /** The last pin the walk handled (its consumer is done with it), null before the first. */
  last: Pin | null
}

/** The walk of a reconciliation pass, and when the pass began. */
export interface ReconcilingWalk {
  readonly walk: WalkState
  readonly began: number
}

export function newWalk(): WalkState {
  return { pinnedDuring: new Set(), last: null }
}

/**
 * The walks over the pinset in progress: every statusAll walk, so that pins finishing ahead of
 * one count as pinned, and the reconciliation pass's, so that pins it has yet to queue read
 * `pin_queued`.
 */
export class PinsetWalks {
  /** Every statusAll walk running, with the CIDs pinned since it read the IPFS pin lists. */
  readonly #walks = new Set<WalkState>()
  /**
   * The walk of the reconciliation pass running, if any: a pin allocated here that IPFS lacks and
   * that this walk has not reached yet is waiting to be queued, so it reads `pin_queued` (as in
   * 1.x, whose pass queues every such pin at once).
   */
  #reconciling: ReconcilingWalk | null = null
  /** The last pin of `#reconciling` as a pinset key, computed once per position. */
  #reconcilingKey: { pin: Pin; key: string } | null = null

  add(walk: WalkState): void {
    this.#walks.add(walk)
  }

  delete(walk: WalkState): void {
    this.#walks.delete(walk)
  }

  /** Records that the pin operation on `cid` (an operation key) finished, for the walks ahead of it. */
  pinned(cid: string): void {
    if (this.#walks.size === 0) return
    // Only pins ahead of a walk: one it passed is not read again, and a long pass must not
    // collect every CID it pinned.
    const key = cidKey(parseCid(cid))
    for (const walk of this.#walks) {
      if (walk.last === null || key > cidKey(walk.last.cid)) walk.pinnedDuring.add(cid)
    }
  }

  /** Marks `walk` as the reconciliation pass's, until `endPass`. */
  beginPass(walk: WalkState, began: number): ReconcilingWalk {
    const reconciling = { walk, began }
    this.#reconciling = reconciling
    return reconciling
  }

  endPass(reconciling: ReconcilingWalk): void {
    if (this.#reconciling === reconciling) this.#reconciling = null
  }

  get passRunning(): boolean {
    return this.#reconciling !== null
  }

  /** When the reconciliation pass running began; null when none runs. */
  get passBegan(): number | null {
    return this.#reconciling?.began ?? null
  }

  /**
   * Whether the reconciliation pass running (other than `own`) has yet to reach `pin`: one that
   * IPFS lacks is then as good as queued. Pins it passed were queued then, or pinned.
   */
  notYetReached(pin: Pin, own: WalkState | null): boolean {
    const reconciling = this.#reconciling
    if (reconciling === null || reconciling.walk === own) return false
    const last = reconciling.walk.last
    if (last === null) return true
    if (this.#reconcilingKey?.pin !== last)
      this.#reconcilingKey = { pin: last, key: cidKey(last.cid) }
    return cidKey(pin.cid) > this.#reconcilingKey.key
  }
}
