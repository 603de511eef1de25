import { ConfigurationChangeError, type RaftNode } from '@pinraft/raft-core'
import type { ApplyResult } from '@pinraft/state-pinset'
import { LastPeerError, OperationRejectedError } from '../errors.ts'
import type { RpcRequest } from '../rpc/rpc-protocol.ts'

/** Admits `peerId` into the cluster (see `admitPeer`). */
export type Admit = (
  node: RaftNode<ApplyResult>,
  peerId: string,
  freshState: boolean,
  from: string,
  signal: AbortSignal,
) => Promise<void>

/**
 * Runs `request` (sent by `from`) on `node`, which believes it is the leader; returns the index
 * this peer has applied once the request is in force. A follower that forwarded it waits to
 * apply it itself before it answers its caller, so the commit index goes to it at once instead
 * of after `commit_timeout` (`flushCommitNotifications`).
 */
export async function executeRequest(
  node: RaftNode<ApplyResult>,
  request: RpcRequest,
  signal: AbortSignal,
  from: string,
  admit: Admit,
): Promise<number> {
  const index = await execute(node, request, signal, from, admit)
  if (from !== node.id) node.flushCommitNotifications(from)
  return index
}

async function execute(
  node: RaftNode<ApplyResult>,
  request: RpcRequest,
  signal: AbortSignal,
  from: string,
  admit: Admit,
): Promise<number> {
  switch (request.kind) {
    case 'log': {
      const result = await node.propose(request.operation, { signal })
      if (result.kind === 'rejected') {
        throw new OperationRejectedError(
          `the leader rejected the operation: ${result.error.message}`,
        )
      }
      return node.appliedIndex
    }
    case 'add-peer':
      await admit(node, request.peerId, request.freshState === true, from, signal)
      return node.appliedIndex
    case 'rm-peer': {
      try {
        await node.removeServer(request.peerId, { signal })
      } catch (error) {
        if (error instanceof ConfigurationChangeError && /last voter/.test(error.message)) {
          throw new LastPeerError(
            `cannot remove ${request.peerId}: it is the last peer of the cluster`,
          )
        }
        throw error
      }
      return node.appliedIndex
    }
  }
}
