import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { type IdJson, parseIdJson } from '../http/id-json.ts'
import { parseRaftStatusJson, type RaftStatusJson } from '../http/raft-status-json.ts'
import type { Logger } from '../logging/logger.ts'

/**
 * The peer-to-peer calls of the service itself (IPFS Cluster's `Cluster.PeerAdd` and
 * `Cluster.ID` RPCs): a joining peer asks a member to add it; `/peers` asks each member for its
 * ID. One length-prefixed JSON request and one response per stream.
 */
export const SERVICE_PROTOCOL = '/pinraft/service/1.0.0'

const MAX_MESSAGE_BYTES = 64 * 1024

/** `freshState`: the joining peer has no Raft state (if it is a member, a rejoin). */
type ServiceRequest =
  | { kind: 'join'; freshState?: boolean }
  | { kind: 'id' }
  | { kind: 'raft-status' }
type ServiceResponse =
  | { ok: true; id?: IdJson; peers?: string[]; raftStatus?: RaftStatusJson }
  | { ok: false; errorName: string; message: string }

export interface ServiceHandlers {
  /**
   * Adds `peerId` to the cluster (the authenticated remote peer: nobody can add another) and
   * returns the multiaddresses of the members, so that the new peer can connect to all of them.
   * `freshState`: the peer says it has no Raft state (consensus re-adds a member as staging).
   */
  join(peerId: string, options: AbortOptions & { freshState: boolean }): Promise<string[]>
  id(): Promise<IdJson>
  /** What `GET /raft/status` answers on this peer (the dashboard's view of every member). */
  raftStatus(): Promise<RaftStatusJson>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function encode(value: ServiceRequest | ServiceResponse): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

function decodeObject(bytes: Uint8Array): Record<string, unknown> {
  const value: unknown = JSON.parse(decoder.decode(bytes))
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('expected a JSON object')
  return value as Record<string, unknown>
}

/** Serves the protocol on `libp2p`; `timeout` bounds each call (a join waits for its commit). */
export async function handleServiceProtocol(
  libp2p: Libp2p,
  handlers: ServiceHandlers,
  timeout: number,
  logger: Logger,
): Promise<void> {
  await libp2p.handle(
    SERVICE_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const remote = connection.remotePeer.toString()
      const framed = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES })
      const signal = AbortSignal.timeout(timeout)
      let response: ServiceResponse
      try {
        const request = decodeObject((await framed.read({ signal })).subarray())
        if (request.kind === 'join') {
          const freshState = request.freshState === true
          logger.warn(
            { peer: remote, address: connection.remoteAddr.toString(), freshState },
            'a peer asks to join the cluster',
          )
          response = { ok: true, peers: await handlers.join(remote, { signal, freshState }) }
        } else if (request.kind === 'id') {
          response = { ok: true, id: await handlers.id() }
        } else if (request.kind === 'raft-status') {
          response = { ok: true, raftStatus: await handlers.raftStatus() }
        } else {
          response = {
            ok: false,
            errorName: 'InvalidRequest',
            message: `unknown request ${JSON.stringify(request.kind)}`,
          }
        }
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error))
        logger.warn({ peer: remote, error: failure.message }, 'service request failed')
        response = { ok: false, errorName: failure.name, message: failure.message }
      }
      try {
        await framed.write(encode(response), { signal })
        await stream.close({ signal })
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)))
      }
    },
    { maxInboundStreams: 32 },
  )
}

async function call(
  libp2p: Libp2p,
  target: PeerId | Multiaddr,
  request: ServiceRequest,
  options: AbortOptions,
): Promise<Record<string, unknown>> {
  const stream = await libp2p.dialProtocol(target, SERVICE_PROTOCOL, options)
  const framed = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES })
  try {
    await framed.write(encode(request), options)
    const response = decodeObject((await framed.read(options)).subarray())
    await stream.close(options).catch(() => {})
    if (response.ok !== true) {
      const error = new Error(
        typeof response.message === 'string' ? response.message : 'the peer refused the request',
      )
      error.name = typeof response.errorName === 'string' ? response.errorName : 'Error'
      throw error
    }
    return response
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}

/**
 * Asks the member at `target` to add this peer to the cluster; resolves once it was committed,
 * with the members' multiaddresses (IPFS Cluster's Join imports them and connects to each).
 */
export async function requestJoin(
  libp2p: Libp2p,
  target: PeerId | Multiaddr,
  options: AbortOptions & { freshState?: boolean },
): Promise<string[]> {
  const request: ServiceRequest =
    options.freshState === true ? { kind: 'join', freshState: true } : { kind: 'join' }
  const response = await call(libp2p, target, request, options)
  return Array.isArray(response.peers)
    ? response.peers.filter((entry): entry is string => typeof entry === 'string').slice(0, 1024)
    : []
}

/** Asks a peer for its ID (as `GET /id` would answer on that peer). */
export async function requestId(
  libp2p: Libp2p,
  peerId: string,
  options: AbortOptions,
): Promise<IdJson> {
  const response = await call(libp2p, peerIdFromString(peerId), { kind: 'id' }, options)
  return parseIdJson(response.id)
}

/** Asks a peer for its Raft status (as `GET /raft/status` would answer on that peer). */
export async function requestRaftStatus(
  libp2p: Libp2p,
  peerId: string,
  options: AbortOptions,
): Promise<RaftStatusJson> {
  const response = await call(libp2p, peerIdFromString(peerId), { kind: 'raft-status' }, options)
  return parseRaftStatusJson(response.raftStatus)
}
