import { ReplicationFactorError } from '@pinraft/allocation'
import type { Pin } from '@pinraft/state-pinset'
import { PinOptionsError } from './errors.ts'

/**
 * 1.x's isReplicationFactorValid, with its messages (1.x returns them for a pin's factors too,
 * after the cluster's defaults replaced the zeros).
 */
export function checkReplicationFactors(min: number, max: number): void {
  if (min === 0 || max === 0)
    throw new ReplicationFactorError('cluster.replication_factor_min and max must be set')
  if (min > max)
    throw new ReplicationFactorError('cluster.replication_factor_min is larger than max')
  if (min < -1) throw new ReplicationFactorError('cluster.replication_factor_min is wrong')
  if (max < -1) throw new ReplicationFactorError('cluster.replication_factor_max is wrong')
  if ((min === -1) !== (max === -1))
    throw new ReplicationFactorError(
      'cluster.replication_factor_min and max must be -1 when one of them is',
    )
}

/** 1.x's setupPin checks after the replication factors: the expiry, then against the pin it replaces. */
export function checkPinAgainst(pin: Pin, existing: Pin | undefined, now: number): void {
  if (pin.expireAt !== null && pin.expireAt < now)
    throw new PinOptionsError('pin.ExpireAt set before current time')
  if (existing === undefined) return
  if (existing.type !== pin.type)
    throw new PinOptionsError(
      `cannot repin CID with different tracking method, clear state with pin rm to proceed. New: ${pin.type}. Was: ${existing.type}`,
    )
  if (existing.mode === 'recursive' && pin.mode !== 'recursive')
    throw new PinOptionsError(
      `cannot repin a CID which is already pinned in recursive mode (new pin is pinned as ${pin.mode}). Unpin it first.`,
    )
}
