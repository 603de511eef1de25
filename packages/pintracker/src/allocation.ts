import type { Pin } from '@pinraft/state-pinset'

/** Whether `pin` must be pinned on `peerId` (1.x's !IsRemotePin, with empty allocations as everywhere). */
export function isAllocatedTo(pin: Pin, peerId: string): boolean {
  if (pin.replicationFactorMin < 0 || pin.replicationFactorMax < 0) return true
  if (pin.allocations.length === 0) return true
  return pin.allocations.includes(peerId)
}
