import type { AbortOptions, Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { type PinInfo, type StatusFilter, trackerStatuses } from '@pinraft/pintracker'
import type { Logger } from '@pinraft/raft-core'
import { parseCid } from '@pinraft/state-pinset'
import type { CID } from 'multiformats/cid'
import { PeerRpcError } from '../errors.ts'
import { pinInfoFromWire, pinInfoToWire } from './pin-info-wire.ts'

/**
 * The cluster's peer-to-peer calls (1.x's PinTracker.Status / StatusAll / Recover / RecoverAll
 * RPCs) over the cluster's libp2p host. One request per stream, as a length-prefixed JSON frame;
 * the answer is one frame, or for the streamed calls frames of up to `batch` PinInfos ended by
 * an `end` frame (or an error frame). Writes wait for the reader, so a slow reader slows the
 * writer instead of filling memory.
 */
export const CLUSTER_PROTOCOL = '/pinraft/cluster/1.0.0'

/** Frames are at most this long: a batch of PinInfos, or one with long names and metadata. */
export const MAX_CLUSTER_FRAME_BYTES = 4 * 1024 * 1024

const batch = 64

type ClusterRequest =
  | { kind: 'status'; cid: string }
  | { kind: 'recover'; cid: string }
  | { kind: 'status-all'; filter: string[] | null }
  | { kind: 'recover-all' }
  | { kind: 'links' }

/**
 * What one peer says about its connections, for 1.x's ConnectGraph (its answer to
 * `Cluster.Peers` and `IPFSConnector.SwarmPeers`).
 */
export interface PeerLinks {
  readonly peername: string
  /** The cluster members this peer's libp2p host is connected to (itself excluded). */
  readonly clusterPeers: readonly string[]
  /** Its IPFS node's peer ID ('' when the node did not answer). */
  readonly ipfsId: string
  /** The IPFS peers its IPFS node is connected to. */
  readonly ipfsPeers: readonly string[]
  /** Why the IPFS node did not answer ('' when it did). */
  readonly ipfsError: string
}

/** This peer's side of the calls: its own tracker (and, for `links`, its connections). */
export interface ClusterRpcHandlers {
  status(cid: CID, options: AbortOptions): Promise<PinInfo>
  recover(cid: CID, options: AbortOptions): Promise<PinInfo>
  statusAll(filter: StatusFilter, options: AbortOptions): AsyncIterable<PinInfo>
  recoverAll(options: AbortOptions): AsyncIterable<PinInfo>
  links?(options: AbortOptions): Promise<PeerLinks>
}

const maxLinks = 10_000

function stringList(value: unknown, what: string): string[] {
  if (
    !Array.isArray(value) ||
    value.length > maxLinks ||
    !value.every((entry) => typeof entry === 'string' && entry.length <= 256)
  )
    throw new TypeError(`${what} must be a list of at most ${maxLinks} peer IDs`)
  return value as string[]
}

function shortString(value: unknown, what: string, limit = 4096): string {
  if (typeof value !== 'string' || value.length > limit)
    throw new TypeError(`${what} must be a string of at most ${limit} characters`)
  return value
}

/** Checks a `links` answer from the network. */
export function peerLinksFromWire(value: unknown): PeerLinks {
  if (typeof value !== 'object' || value === null) throw new TypeError('links must be an object')
  const wire = value as Record<string, unknown>
  return {
    peername: shortString(wire.peername, 'links.peername'),
    clusterPeers: stringList(wire.clusterPeers, 'links.clusterPeers'),
    ipfsId: shortString(wire.ipfsId, 'links.ipfsId', 256),
    ipfsPeers: stringList(wire.ipfsPeers, 'links.ipfsPeers'),
    ipfsError: shortString(wire.ipfsError, 'links.ipfsError'),
  }
}

export type ClusterHost = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections'>

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

function decodeObject(bytes: Uint8Array): Record<string, unknown> {
  const value: unknown = JSON.parse(decoder.decode(bytes))
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('expected a JSON object')
  return value as Record<string, unknown>
}

function parseRequest(value: Record<string, unknown>): ClusterRequest {
  switch (value.kind) {
    case 'status':
    case 'recover':
      if (typeof value.cid !== 'string') throw new TypeError(`${value.kind} needs a cid string`)
      return { kind: value.kind, cid: value.cid }
    case 'status-all': {
      const filter = value.filter
      if (filter === null) return { kind: 'status-all', filter: null }
      if (
        !Array.isArray(filter) ||
        !filter.every((entry) => (trackerStatuses as readonly unknown[]).includes(entry))
      )
        throw new TypeError('status-all needs a filter: null or a list of statuses')
      return { kind: 'status-all', filter: filter as string[] }
    }
    case 'recover-all':
      return { kind: 'recover-all' }
    case 'links':
      return { kind: 'links' }
    default:
      throw new TypeError(`unknown request ${JSON.stringify(value.kind)}`)
  }
}

function failure(error: unknown): { ok: false; errorName: string; message: string } {
  const cause = error instanceof Error ? error : new Error(String(error))
  return { ok: false, errorName: cause.name, message: cause.message }
}

export interface ClusterProtocolOptions {
  /** Bounds a one-answer call on the serving side (milliseconds). */
  readonly callTimeout: number
  readonly logger: Logger
  readonly maxInboundStreams?: number
}

/** Serves the protocol on `host` with this peer's tracker. */
export async function handleClusterProtocol(
  host: ClusterHost,
  handlers: ClusterRpcHandlers,
  options: ClusterProtocolOptions,
): Promise<void> {
  const { logger } = options
  await host.handle(
    CLUSTER_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const remote = connection.remotePeer.toString()
      const framed = lpStream(stream, { maxDataLength: MAX_CLUSTER_FRAME_BYTES })
      const controller = new AbortController()
      const onAbort = () => controller.abort()
      stream.addEventListener('close', onAbort)
      const { signal } = controller
      try {
        let request: ClusterRequest
        try {
          request = parseRequest(
            decodeObject(
              (
                await framed.read({
                  signal: AbortSignal.any([signal, AbortSignal.timeout(options.callTimeout)]),
                })
              ).subarray(),
            ),
          )
        } catch (error) {
          await framed.write(encode(failure(error)), { signal })
          await stream.close({ signal })
          return
        }
        if (request.kind === 'links') {
          let response: unknown
          try {
            if (handlers.links === undefined) throw new TypeError('this peer does not serve links')
            const links = await handlers.links({
              signal: AbortSignal.any([signal, AbortSignal.timeout(options.callTimeout)]),
            })
            response = { ok: true, links }
          } catch (error) {
            response = failure(error)
          }
          await framed.write(encode(response), { signal })
          await stream.close({ signal })
          return
        }
        if (request.kind === 'status' || request.kind === 'recover') {
          const callSignal = AbortSignal.any([signal, AbortSignal.timeout(options.callTimeout)])
          let response: unknown
          try {
            const cid = parseCid(request.cid)
            const info =
              request.kind === 'status'
                ? await handlers.status(cid, { signal: callSignal })
                : await handlers.recover(cid, { signal: callSignal })
            response = { ok: true, info: pinInfoToWire(info) }
          } catch (error) {
            response = failure(error)
          }
          await framed.write(encode(response), { signal })
          await stream.close({ signal })
          return
        }
        const source =
          request.kind === 'status-all'
            ? handlers.statusAll(
                request.filter === null ? null : new Set(request.filter as PinInfo['status'][]),
                { signal },
              )
            : handlers.recoverAll({ signal })
        const frameSize = request.kind === 'status-all' ? batch : 1
        let infos: ReturnType<typeof pinInfoToWire>[] = []
        try {
          for await (const info of source) {
            infos.push(pinInfoToWire(info))
            if (infos.length >= frameSize) {
              await framed.write(encode({ infos }), { signal })
              infos = []
            }
          }
        } catch (error) {
          if (infos.length > 0) await framed.write(encode({ infos }), { signal })
          await framed.write(encode(failure(error)), { signal })
          await stream.close({ signal })
          return
        }
        if (infos.length > 0) await framed.write(encode({ infos }), { signal })
        await framed.write(encode({ end: true }), { signal })
        await stream.close({ signal })
      } catch (error) {
        logger.debug('cluster RPC stream ended early', {
          peer: remote,
          error: error instanceof Error ? error.message : String(error),
        })
        stream.abort(error instanceof Error ? error : new Error(String(error)))
      } finally {
        stream.removeEventListener('close', onAbort)
        controller.abort()
      }
    },
    { maxInboundStreams: options.maxInboundStreams ?? 64 },
  )
}

function remoteError(response: Record<string, unknown>, peer: string): PeerRpcError {
  const message =
    typeof response.message === 'string' ? response.message : 'the peer refused the request'
  const name = typeof response.errorName === 'string' ? response.errorName : 'Error'
  return new PeerRpcError(`peer ${peer}: ${message}`, name)
}

async function open(
  host: ClusterHost,
  peer: string,
  request: ClusterRequest,
  options: AbortOptions,
): Promise<{ stream: Stream; framed: ReturnType<typeof lpStream> }> {
  const stream = await host.dialProtocol(peerIdFromString(peer), CLUSTER_PROTOCOL, options)
  const framed = lpStream(stream, { maxDataLength: MAX_CLUSTER_FRAME_BYTES })
  try {
    await framed.write(encode(request), options)
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
  return { stream, framed }
}

/** Asks `peer` for its status of (or to recover) one CID. */
export async function requestPinInfo(
  host: ClusterHost,
  peer: string,
  kind: 'status' | 'recover',
  cid: CID,
  options: AbortOptions,
): Promise<PinInfo> {
  const { stream, framed } = await open(host, peer, { kind, cid: cid.toString() }, options)
  try {
    const response = decodeObject((await framed.read(options)).subarray())
    await stream.close(options).catch(() => {})
    if (response.ok !== true) throw remoteError(response, peer)
    return pinInfoFromWire(response.info, peer)
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}

/** Asks `peer` for its cluster and IPFS connections (ConnectGraph). */
export async function requestPeerLinks(
  host: ClusterHost,
  peer: string,
  options: AbortOptions,
): Promise<PeerLinks> {
  const { stream, framed } = await open(host, peer, { kind: 'links' }, options)
  try {
    const response = decodeObject((await framed.read(options)).subarray())
    await stream.close(options).catch(() => {})
    if (response.ok !== true) throw remoteError(response, peer)
    try {
      return peerLinksFromWire(response.links)
    } catch (error) {
      throw new PeerRpcError(`peer ${peer}: malformed links: ${(error as Error).message}`)
    }
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}

/**
 * Streams `peer`'s statuses (or recoveries) of every pin, in its pinset's CID order. Each frame
 * must come within `frameTimeout`. Breaking out of the loop closes the stream.
 */
export async function* requestPinInfoStream(
  host: ClusterHost,
  peer: string,
  request: { kind: 'status-all'; filter: StatusFilter } | { kind: 'recover-all' },
  options: AbortOptions & { frameTimeout: number },
): AsyncGenerator<PinInfo> {
  const wire: ClusterRequest =
    request.kind === 'status-all'
      ? { kind: 'status-all', filter: request.filter === null ? null : [...request.filter] }
      : { kind: 'recover-all' }
  const dialSignal = AbortSignal.any([
    ...(options.signal === undefined ? [] : [options.signal]),
    AbortSignal.timeout(options.frameTimeout),
  ])
  const { stream, framed } = await open(host, peer, wire, { signal: dialSignal })
  let finished = false
  try {
    for (;;) {
      const signal = AbortSignal.any([
        ...(options.signal === undefined ? [] : [options.signal]),
        AbortSignal.timeout(options.frameTimeout),
      ])
      const frame = decodeObject((await framed.read({ signal })).subarray())
      if (frame.end === true) {
        finished = true
        await stream.close({ signal }).catch(() => {})
        return
      }
      if (frame.ok === false) {
        finished = true
        stream.abort(new Error('the peer reported an error'))
        throw remoteError(frame, peer)
      }
      if (!Array.isArray(frame.infos)) throw new PeerRpcError(`peer ${peer}: malformed frame`)
      for (const info of frame.infos) yield pinInfoFromWire(info, peer)
    }
  } finally {
    if (!finished) stream.abort(new Error('the reader stopped'))
  }
}
