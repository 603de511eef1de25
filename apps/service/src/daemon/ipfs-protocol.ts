import type { AbortOptions, Connection, Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { RepoGcJson } from '../http/ipfs-context.ts'
import type { Logger } from '../logging/logger.ts'

/**
 * Peer-to-peer calls about the IPFS nodes (1.x's `IPFSConnector.RepoGC` RPC): `/ipfs/gc` asks
 * every member to collect garbage on its own IPFS node. A protocol of its own, because a GC's
 * answer (every removed CID) outgrows the service protocol's messages.
 */
export const IPFS_PROTOCOL = '/pinraft/ipfs/1.0.0'

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

export interface IpfsProtocolHandlers {
  repoGc(options: AbortOptions): Promise<RepoGcJson>
}

type IpfsResponse =
  | { ok: true; repoGc: RepoGcJson }
  | { ok: false; errorName: string; message: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export async function handleIpfsProtocol(
  libp2p: Libp2p,
  handlers: IpfsProtocolHandlers,
  timeout: number,
  logger: Logger,
): Promise<void> {
  await libp2p.handle(
    IPFS_PROTOCOL,
    async (stream: Stream, connection: Connection) => {
      const framed = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES })
      const signal = AbortSignal.timeout(timeout)
      let response: IpfsResponse
      try {
        const request = JSON.parse(decoder.decode((await framed.read({ signal })).subarray())) as {
          kind?: unknown
        }
        if (request.kind !== 'repo-gc') {
          throw new TypeError(`unknown request ${JSON.stringify(request.kind)}`)
        }
        logger.info({ peer: connection.remotePeer.toString() }, 'IPFS garbage collection asked')
        response = { ok: true, repoGc: await handlers.repoGc({ signal }) }
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error))
        response = { ok: false, errorName: failure.name, message: failure.message }
      }
      try {
        await framed.write(encoder.encode(JSON.stringify(response)), { signal })
        await stream.close({ signal })
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)))
      }
    },
    { maxInboundStreams: 4 },
  )
}

function parseRepoGc(value: unknown, peerId: string): RepoGcJson {
  if (typeof value !== 'object' || value === null) throw new TypeError('a RepoGC must be an object')
  const record = value as Record<string, unknown>
  const keys = Array.isArray(record.keys)
    ? record.keys.flatMap((entry): NonNullable<RepoGcJson['keys']> => {
        const item = entry as Record<string, unknown>
        if (typeof item.key === 'string') return [{ key: item.key }]
        if (typeof item.error === 'string') return [{ key: null, error: item.error }]
        return []
      })
    : null
  return {
    peer: peerId,
    peername: typeof record.peername === 'string' ? record.peername : '',
    keys: keys === null || keys.length === 0 ? null : keys,
    ...(typeof record.error === 'string' && record.error !== '' ? { error: record.error } : {}),
  }
}

/** Asks `peerId` to collect garbage on its IPFS node. */
export async function requestRepoGc(
  libp2p: Libp2p,
  peerId: string,
  options: AbortOptions,
): Promise<RepoGcJson> {
  const stream = await libp2p.dialProtocol(peerIdFromString(peerId), IPFS_PROTOCOL, options)
  const framed = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES })
  try {
    await framed.write(encoder.encode(JSON.stringify({ kind: 'repo-gc' })), options)
    const response = JSON.parse(decoder.decode((await framed.read(options)).subarray())) as Record<
      string,
      unknown
    >
    await stream.close(options).catch(() => {})
    if (response.ok !== true) {
      const error = new Error(
        typeof response.message === 'string' ? response.message : 'the peer refused the request',
      )
      error.name = typeof response.errorName === 'string' ? response.errorName : 'Error'
      throw error
    }
    return parseRepoGc(response.repoGc, peerId)
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    throw error
  }
}
