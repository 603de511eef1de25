import { RpcError } from '../errors.ts'

/**
 * The consensus RPC protocol: a follower forwards operations to the leader (IPFS Cluster's
 * leader redirection, done over go-libp2p-gorpc there). One request and one response per stream,
 * each a length-prefixed UTF-8 JSON document, validated field by field.
 */
export const CONSENSUS_RPC_PROTOCOL = '/pinraft/consensus/1.0.0'

/**
 * The same requests and responses on one long-lived stream from a follower to the leader: any
 * number of length-prefixed requests, each answered by one length-prefixed response, in the
 * order the requests came (the leader runs them concurrently). Followers forward pins on it;
 * they fall back to `CONSENSUS_RPC_PROTOCOL` with a leader that does not speak it.
 */
export const CONSENSUS_PIPELINE_PROTOCOL = '/pinraft/consensus/1.1.0'

/** Largest request or response, in bytes: an operation carries one pin or a bounded batch. */
export const MAX_RPC_MESSAGE_BYTES = 4 * 1024 * 1024

export type RpcRequest =
  /** An encoded state-pinset operation (which carries its own request id). */
  | { readonly kind: 'log'; readonly operation: Uint8Array }
  /** `freshState`: the peer has no Raft state (a rejoin, if it is a member). Absent: false. */
  | { readonly kind: 'add-peer'; readonly peerId: string; readonly freshState?: boolean }
  | { readonly kind: 'rm-peer'; readonly peerId: string }

export type RpcResponse =
  /** Applied at `index` on the leader. */
  | { readonly ok: true; readonly index: number }
  | {
      readonly ok: false
      /** The `name` of the error on the leader (`NotLeaderError`, `LastPeerError`, ...). */
      readonly errorName: string
      readonly message: string
      /** The leader, when the peer asked is not it. */
      readonly leader: string | null
    }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function encodeRequest(request: RpcRequest): Uint8Array {
  const json =
    request.kind === 'log'
      ? { kind: request.kind, operation: toBase64(request.operation) }
      : request.kind === 'add-peer' && request.freshState === true
        ? { kind: request.kind, peerId: request.peerId, freshState: true }
        : { kind: request.kind, peerId: request.peerId }
  return encoder.encode(JSON.stringify(json))
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new RpcError(`malformed consensus RPC ${what}: not UTF-8 JSON (${String(cause)})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RpcError(`malformed consensus RPC ${what}: expected a JSON object`)
  }
  return value as Record<string, unknown>
}

function nonEmptyString(value: unknown, field: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 256) {
    throw new RpcError(`malformed consensus RPC ${what}: ${field} must be a non-empty string`)
  }
  return value
}

export function decodeRequest(bytes: Uint8Array): RpcRequest {
  const json = parseJson(bytes, 'request')
  switch (json.kind) {
    case 'log': {
      if (typeof json.operation !== 'string' || json.operation === '') {
        throw new RpcError('malformed consensus RPC request: operation must be base64 bytes')
      }
      const operation = new Uint8Array(Buffer.from(json.operation, 'base64'))
      if (operation.byteLength === 0) {
        throw new RpcError('malformed consensus RPC request: operation decodes to no bytes')
      }
      return { kind: 'log', operation }
    }
    case 'add-peer': {
      const peerId = nonEmptyString(json.peerId, 'peerId', 'request')
      if (json.freshState === undefined || json.freshState === false) {
        return { kind: 'add-peer', peerId }
      }
      if (json.freshState !== true) {
        throw new RpcError('malformed consensus RPC request: freshState must be true or false')
      }
      return { kind: 'add-peer', peerId, freshState: true }
    }
    case 'rm-peer':
      return { kind: json.kind, peerId: nonEmptyString(json.peerId, 'peerId', 'request') }
    default:
      throw new RpcError(
        `malformed consensus RPC request: unknown kind ${JSON.stringify(json.kind)} (expected log, add-peer or rm-peer)`,
      )
  }
}

export function encodeResponse(response: RpcResponse): Uint8Array {
  return encoder.encode(JSON.stringify(response))
}

export function decodeResponse(bytes: Uint8Array): RpcResponse {
  const json = parseJson(bytes, 'response')
  if (json.ok === true) {
    if (typeof json.index !== 'number' || !Number.isSafeInteger(json.index) || json.index < 0) {
      throw new RpcError('malformed consensus RPC response: index must be a non-negative integer')
    }
    return { ok: true, index: json.index }
  }
  if (json.ok === false) {
    const leader = json.leader
    if (leader !== null && leader !== undefined && typeof leader !== 'string') {
      throw new RpcError('malformed consensus RPC response: leader must be a string or null')
    }
    return {
      ok: false,
      errorName: nonEmptyString(json.errorName, 'errorName', 'response'),
      message: typeof json.message === 'string' ? json.message.slice(0, 4096) : '',
      leader: leader ?? null,
    }
  }
  throw new RpcError('malformed consensus RPC response: ok must be true or false')
}
