import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Logger } from '@pinraft/raft-core'
import { RpcError } from '../errors.ts'
import {
  decodeRequest,
  encodeResponse,
  MAX_RPC_MESSAGE_BYTES,
  type RpcRequest,
  type RpcResponse,
} from '../rpc/rpc-protocol.ts'

/** What serving forwarded operations needs from the consensus component. */
export interface RpcHost {
  logger: Logger
  /** Aborts when consensus stops. */
  stopSignal: AbortSignal
  /** How long one request may take (network_timeout + wait_for_leader_timeout). */
  requestTimeout: number
  isMember(peerId: string): boolean
  /** This peer's role, or throws ConsensusShutdownError. */
  role(): string
  /** The leader known, null if none (or stopped). */
  leader(): string | null
  /** Runs `request` on this peer, the leader; returns the index it was applied at. */
  execute(request: RpcRequest, signal: AbortSignal, from: string): Promise<number>
}

/**
 * The leader's side of the consensus RPC protocol: serves operations forwarded by followers
 * (only members may send them; anyone may ask to join).
 */
export function rpcHandler(
  host: RpcHost,
): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const remote = connection.remotePeer.toString()
    const framed = lpStream(stream, { maxDataLength: MAX_RPC_MESSAGE_BYTES })
    const signal = AbortSignal.any([host.stopSignal, AbortSignal.timeout(host.requestTimeout)])
    let response: RpcResponse
    try {
      const request = decodeRequest((await framed.read({ signal })).subarray())
      response = await answer(host, request, remote, signal)
    } catch (error) {
      response = failureResponse(host, error, remote)
    }
    try {
      await framed.write(encodeResponse(response), { signal })
      await stream.close({ signal })
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)))
    }
  }
}

async function answer(
  host: RpcHost,
  request: RpcRequest,
  remote: string,
  signal: AbortSignal,
): Promise<RpcResponse> {
  const joiningItself = request.kind === 'add-peer' && request.peerId === remote
  if (!joiningItself && !host.isMember(remote)) {
    throw new RpcError(
      `${remote} is not a member of the cluster; only members may submit operations`,
    )
  }
  if (host.role() !== 'leader') {
    return {
      ok: false,
      errorName: 'NotLeaderError',
      message: 'this peer is not the leader',
      leader: host.leader(),
    }
  }
  return { ok: true, index: await host.execute(request, signal, remote) }
}

function failureResponse(host: RpcHost, error: unknown, remote: string): RpcResponse {
  const failure = error instanceof Error ? error : new Error(String(error))
  if (
    failure.name === 'RpcError' ||
    failure.name === 'InvalidFrameError' ||
    failure.name === 'InvalidDataLengthError'
  ) {
    host.logger.warn('refused a consensus RPC request', { from: remote, reason: failure.message })
  }
  return {
    ok: false,
    errorName: failure.name,
    message: failure.message,
    leader: host.leader(),
  }
}
