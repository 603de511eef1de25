import type { Logger, RaftNode } from '@pinraft/raft-core'

/** Debug lines for what Raft does on its own: role changes and snapshots taken or installed. */
export function logNodeEvents<Result>(
  node: RaftNode<Result>,
  logger: Logger,
  pinCount: () => number,
): void {
  node.addEventListener('role:change', (event) => {
    logger.debug('Raft role changed', {
      role: event.detail.role,
      previous: event.detail.previous,
      term: event.detail.term,
    })
  })
  node.addEventListener('snapshot:taken', (event) => {
    logger.debug('snapshot taken', {
      index: event.detail.snapshot.index,
      term: event.detail.snapshot.term,
      bytes: event.detail.snapshot.size,
    })
  })
  node.addEventListener('snapshot:installed', (event) => {
    logger.debug('snapshot from the leader installed', {
      index: event.detail.snapshot.index,
      term: event.detail.snapshot.term,
      pins: pinCount(),
    })
  })
}
