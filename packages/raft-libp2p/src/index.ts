/**
 * @packageDocumentation
 *
 * raft-core's `Transport` over js-libp2p: a libp2p service that carries Raft messages between
 * peers (addressed by peer ID) on `/pinraft/raft/1.0.0` and snapshots on
 * `/pinraft/raft-snapshot/1.0.0`.
 *
 * ```ts
 * const node = await createLibp2p({ ..., services: { raft: raftTransport() } })
 * const raft = new RaftNode({ transport: node.services.raft, ... })
 * ```
 */
import {
  RaftLibp2pTransport,
  type RaftTransport,
  type RaftTransportComponents,
  type RaftTransportInit,
} from './raft-transport.ts'

export {
  DEFAULT_MAX_MESSAGE_SIZE,
  RAFT_PROTOCOL,
  SNAPSHOT_PROTOCOL,
} from './constants.ts'
export * from './errors.ts'
export type { DropReason } from './peer-sender.ts'
export { preSharedKeyFromSecret } from './pre-shared-key.ts'
export type {
  MessageDroppedDetail,
  RaftTransport,
  RaftTransportComponents,
  RaftTransportConnectionManager,
  RaftTransportEvents,
  RaftTransportInit,
  RaftTransportRegistrar,
  StreamRejectedDetail,
} from './raft-transport.ts'

/** The libp2p service factory: `services: { raft: raftTransport(init) }`. */
export function raftTransport(
  init: RaftTransportInit = {},
): (components: RaftTransportComponents) => RaftTransport {
  return (components) => new RaftLibp2pTransport(components, init)
}
