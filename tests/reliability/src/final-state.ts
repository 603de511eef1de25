import type { CompletedOperation } from './history.ts'
import { partitionByCid } from './history.ts'

export type FinalStateViolation =
  | {
      /** Peers hold different pinsets after healing. */
      readonly kind: 'divergent-peers'
      readonly cid: string
      readonly presentOn: readonly string[]
      readonly absentOn: readonly string[]
    }
  | {
      /** An acknowledged pin is missing, and no unpin could have been ordered after it. */
      readonly kind: 'lost-pin'
      readonly cid: string
      readonly peers: readonly string[]
      readonly acknowledgedBy: number
    }
  | {
      /** A CID is pinned that no call asked for (or every call for it was refused). */
      readonly kind: 'phantom-pin'
      readonly cid: string
      readonly peers: readonly string[]
    }
  | {
      /** A CID is pinned although an acknowledged unpin came after every pin that could have taken effect. */
      readonly kind: 'resurrected-pin'
      readonly cid: string
      readonly peers: readonly string[]
      readonly unpinnedBy: number
    }

export interface FinalStateResult {
  /** `not-checked` when the peers never converged (the recovery verdict says why): never a pass. */
  readonly verdict: 'ok' | 'violation' | 'not-checked'
  readonly violations: readonly FinalStateViolation[]
  /** CIDs that were pinned on every peer, and that had to be (an acknowledged pin, nothing after it). */
  readonly acknowledgedPinsChecked: number
  readonly cidsChecked: number
}

/** When a call may have taken effect at the latest: never for an answer-less call's bound. */
function latest(operation: CompletedOperation): number {
  return operation.outcome === 'unknown' ? Number.POSITIVE_INFINITY : operation.completedAt
}

function isEffectivePin(operation: CompletedOperation): boolean {
  return operation.kind === 'pin' && operation.outcome !== 'fail'
}

/** An unpin that wrote (200) or may have written (unknown); a 404 wrote nothing. */
function isEffectiveUnpin(operation: CompletedOperation): boolean {
  if (operation.kind !== 'unpin' || operation.outcome === 'fail') return false
  return !(operation.outcome === 'ok' && operation.value === 'absent')
}

/**
 * Judges the pinsets the peers hold once every fault is healed and they have converged:
 * all peers identical; every acknowledged pin present unless an unpin may have come after it;
 * nothing present that was never requested or that an acknowledged unpin removed after every pin.
 *
 * @param peers each peer's pinset (CIDs), by peer name
 */
export function checkFinalState(
  operations: readonly CompletedOperation[],
  peers: Readonly<Record<string, readonly string[]>>,
): FinalStateResult {
  const names = Object.keys(peers).sort()
  const sets = new Map(names.map((name) => [name, new Set(peers[name])]))
  const violations: FinalStateViolation[] = []
  const byCid = partitionByCid(operations)
  const cids = new Set<string>(byCid.keys())
  for (const set of sets.values()) for (const cid of set) cids.add(cid)
  let acknowledgedPinsChecked = 0

  for (const cid of [...cids].sort()) {
    const presentOn = names.filter((name) => sets.get(name)!.has(cid))
    const absentOn = names.filter((name) => !sets.get(name)!.has(cid))
    if (presentOn.length > 0 && absentOn.length > 0)
      violations.push({ kind: 'divergent-peers', cid, presentOn, absentOn })

    const history = byCid.get(cid) ?? []
    const pins = history.filter(isEffectivePin)
    const unpins = history.filter(isEffectiveUnpin)

    if (absentOn.length > 0) {
      // The acknowledged pin invoked last is the hardest to order before every unpin.
      const lastAcknowledged = pins
        .filter((operation) => operation.outcome === 'ok')
        .reduce<CompletedOperation | undefined>(
          (last, operation) =>
            last === undefined || operation.invokedAt > last.invokedAt ? operation : last,
          undefined,
        )
      if (
        lastAcknowledged !== undefined &&
        unpins.every((unpin) => latest(unpin) < lastAcknowledged.invokedAt)
      ) {
        violations.push({
          kind: 'lost-pin',
          cid,
          peers: absentOn,
          acknowledgedBy: lastAcknowledged.id,
        })
      }
    }
    if (presentOn.length > 0) {
      if (pins.length === 0) {
        violations.push({ kind: 'phantom-pin', cid, peers: presentOn })
      } else {
        const lastUnpin = unpins
          .filter((operation) => operation.outcome === 'ok')
          .reduce<CompletedOperation | undefined>(
            (last, operation) =>
              last === undefined || operation.invokedAt > last.invokedAt ? operation : last,
            undefined,
          )
        if (lastUnpin !== undefined && pins.every((pin) => latest(pin) < lastUnpin.invokedAt)) {
          violations.push({
            kind: 'resurrected-pin',
            cid,
            peers: presentOn,
            unpinnedBy: lastUnpin.id,
          })
        }
      }
    }
    if (absentOn.length === 0 && pins.some((operation) => operation.outcome === 'ok'))
      acknowledgedPinsChecked += 1
  }
  return {
    verdict: violations.length === 0 ? 'ok' : 'violation',
    violations,
    acknowledgedPinsChecked,
    cidsChecked: cids.size,
  }
}
