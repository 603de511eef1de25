import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Logger } from '@pinraft/raft-core'
import {
  JoinInProgressError,
  JoinNotAllowedError,
  LastPeerError,
  OperationRejectedError,
} from '../errors.ts'
import {
  CONSENSUS_RPC_PROTOCOL,
  decodeResponse,
  encodeRequest,
  MAX_RPC_MESSAGE_BYTES,
  type RpcRequest,
  type RpcResponse,
} from '../rpc/rpc-protocol.ts'

/** An error that says the operation did not reach the leader (so it was certainly not applied). */
export class NotSentError extends Error {
  override readonly name = 'NotSentError'
}

export interface ForwardComponents {
  libp2p: Pick<Libp2p, 'dialProtocol'>
  logger: Logger
}

/**
 * Sends `request` to the leader over the consensus RPC protocol (IPFS Cluster's leader
 * redirection) and returns the index at which the leader applied it. The leader's error comes
 * back as the same class where the caller tells errors apart by class, else by `name`.
 */
export async function forwardToLeader(
  components: ForwardComponents,
  leader: string,
  request: RpcRequest,
  signal: AbortSignal,
): Promise<number> {
  components.logger.debug('forwarding to the leader', {
    leader,
    kind: request.kind,
    ...(request.kind === 'log' ? {} : { peerId: request.peerId }),
  })
  let stream: Stream
  try {
    stream = await components.libp2p.dialProtocol(
      peerIdFromString(leader),
      CONSENSUS_RPC_PROTOCOL,
      { signal },
    )
  } catch (error) {
    throw new NotSentError(`could not reach the leader ${leader}: ${String(error)}`)
  }
  const framed = lpStream(stream, { maxDataLength: MAX_RPC_MESSAGE_BYTES })
  let response: RpcResponse
  try {
    await framed.write(encodeRequest(request), { signal })
    response = decodeResponse((await framed.read({ signal })).subarray())
    await stream.close({ signal }).catch(() => {})
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
  return indexOrThrow(response)
}

/** The index of a successful response; the leader's error otherwise. */
export function indexOrThrow(response: RpcResponse): number {
  if (response.ok) return response.index
  switch (response.errorName) {
    case 'LastPeerError':
      throw new LastPeerError(response.message)
    case 'JoinNotAllowedError':
      throw new JoinNotAllowedError(response.message)
    case 'JoinInProgressError':
      throw new JoinInProgressError(response.message)
    case 'OperationRejectedError':
    case 'ConfigurationChangeError':
      throw new OperationRejectedError(response.message)
  }
  const error = new Error(response.message)
  error.name = response.errorName
  throw error
}
