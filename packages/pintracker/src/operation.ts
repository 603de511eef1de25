import type { TrackerStatus } from './tracker-status.ts'

/** What an operation does: pin, unpin, or unpin because the pin is allocated elsewhere. */
export type OperationType = 'pin' | 'unpin' | 'remote'

/** 1.x's optracker phases; a done operation is removed from the tracker at once. */
export type OperationPhase = 'queued' | 'in_progress' | 'error' | 'done'

/**
 * One operation on one CID (1.x's optracker.Operation). It exists only while queued, in flight
 * or failed: a finished one is forgotten, and the CID's status is read from IPFS again. It is
 * kept small (a few fields and the CID's string); a reconciliation pass keeps a bounded window
 * of them. The pin's options are read from the pinset when the operation starts, so they are
 * the latest.
 */
export interface Operation {
  readonly type: OperationType
  /** The CID, as a string (the tracker's key). */
  readonly key: string
  phase: OperationPhase
  attemptCount: number
  priority: boolean
  error: string
  /** When the phase last changed (milliseconds since the epoch). */
  timestamp: number
  /** Set when the operation is replaced or the tracker stops; a queued one is then skipped. */
  canceled: boolean
  /** Created when the operation starts, aborted with `canceled`. */
  controller: AbortController | null
}

export function cancelOperation(operation: Operation): void {
  operation.canceled = true
  operation.controller?.abort()
}

/** 1.x's Operation.ToTrackerStatus: the status an operation's type and phase stand for. */
export function operationStatus(operation: Operation): TrackerStatus {
  if (operation.type === 'remote') return 'remote'
  if (operation.type === 'pin') {
    switch (operation.phase) {
      case 'queued':
        return 'pin_queued'
      case 'in_progress':
        return 'pinning'
      case 'error':
        return 'pin_error'
      case 'done':
        return 'pinned'
    }
  }
  switch (operation.phase) {
    case 'queued':
      return 'unpin_queued'
    case 'in_progress':
      return 'unpinning'
    case 'error':
      return 'unpin_error'
    case 'done':
      return 'unpinned'
  }
}
