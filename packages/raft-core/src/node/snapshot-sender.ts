import type { SnapshotMessage } from '../message.ts'
import type { SnapshotStore } from '../storage/snapshot-store.ts'
import type { Transport } from '../transport/transport.ts'

/**
 * Streams to its follower the snapshot a leader's `message` names, or a newer one if the store
 * no longer retains it (snapshots received but not installed count towards retention): any
 * snapshot is committed state. When none is left, `onNotRetained` runs (the node takes a new
 * one) and the send fails, for the leader to retry.
 */
export async function sendStoredSnapshot(
  snapshotStore: SnapshotStore,
  transport: Pick<Transport, 'sendSnapshot'>,
  message: SnapshotMessage,
  onNotRetained: () => void,
): Promise<void> {
  const snapshots = await snapshotStore.list()
  const stored =
    snapshots.find(
      (candidate) =>
        candidate.index === message.snapshot.index && candidate.term === message.snapshot.term,
    ) ?? snapshots.find((candidate) => candidate.index >= message.snapshot.index)
  if (stored === undefined) {
    onNotRetained()
    throw new Error(`snapshot ${message.snapshot.index} is no longer retained; taking a new one`)
  }
  const { id: _id, size: _size, ...metadata } = stored
  const opened = await snapshotStore.open(stored.id)
  await transport.sendSnapshot({ ...message, snapshot: metadata }, opened.data)
}
