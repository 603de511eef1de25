import type { Connection, Stream, StreamMessageEvent } from '@libp2p/interface'
import { LengthPrefixedDecoder, lpStream } from '@libp2p/utils'
import type { Logger } from '@pinraft/raft-core'
import { RpcError } from '../errors.ts'
import { encodeFrame } from '../rpc/framing.ts'
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

/**
 * The leader's side of the pipelined protocol: requests on one stream run concurrently and are
 * answered in the order they came.
 */
export function pipelinedRpcHandler(
  host: RpcHost,
): (stream: Stream, connection: Connection) => void {
  return (stream, connection) => {
    const remote = connection.remotePeer.toString()
    const decoder = new LengthPrefixedDecoder({
      maxDataLength: MAX_RPC_MESSAGE_BYTES,
      maxBufferSize: MAX_RPC_MESSAGE_BYTES * 2,
    })
    // Responses leave in request order: each waits for the one before it.
    let tail: Promise<void> = Promise.resolve()
    const respond = (response: RpcResponse) => {
      if (stream.writeStatus === 'writable') stream.send(encodeFrame(encodeResponse(response)))
    }
    stream.addEventListener('message', (event: StreamMessageEvent) => {
      try {
        for (const frame of decoder.decode(event.data)) {
          const answering = answerFrame(host, frame.subarray(), remote)
          tail = tail.then(() => answering.then(respond))
        }
      } catch (error) {
        // The framing is broken: nothing after this point can be trusted to line up.
        const failure = error instanceof Error ? error : new Error(String(error))
        host.logger.warn('refused a consensus RPC request', {
          from: remote,
          reason: failure.message,
        })
        stream.abort(failure)
      }
    })
    stream.addEventListener('remoteCloseWrite', () => {
      void tail.then(() => stream.close()).catch(() => {})
    })
  }
}

/** One request of the pipelined protocol, answered (never rejects). */
async function answerFrame(host: RpcHost, frame: Uint8Array, remote: string): Promise<RpcResponse> {
  const signal = AbortSignal.any([host.stopSignal, AbortSignal.timeout(host.requestTimeout)])
  try {
    return await answer(host, decodeRequest(frame), remote, signal)
  } catch (error) {
    return failureResponse(host, error, remote)
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
