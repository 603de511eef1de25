import type { PinInfo, TrackerStatus } from '@pinraft/pintracker'
import { trackerStatuses } from '@pinraft/pintracker'
import { parseCid } from '@pinraft/state-pinset'

/**
 * A PinInfo on the wire: 1.x's JSON field names, times as milliseconds since the epoch (or
 * null). What a peer sends is checked field by field: a malformed answer is the peer's error.
 */
export interface PinInfoWire {
  cid: string
  name: string
  peer: string
  allocations: string[]
  origins: string[]
  created: number | null
  metadata: Record<string, string>
  peername: string
  ipfs_peer_id: string
  ipfs_peer_addresses: string[]
  status: TrackerStatus
  timestamp: number | null
  error: string
  attempt_count: number
  priority_pin: boolean
}

export function pinInfoToWire(info: PinInfo): PinInfoWire {
  return {
    cid: info.cid.toString(),
    name: info.name,
    peer: info.peer,
    allocations: [...info.allocations],
    origins: [...info.origins],
    created: info.created,
    metadata: { ...info.metadata },
    peername: info.peername,
    ipfs_peer_id: info.ipfsPeerId,
    ipfs_peer_addresses: [...info.ipfsPeerAddresses],
    status: info.status,
    timestamp: info.timestamp,
    error: info.error,
    attempt_count: info.attemptCount,
    priority_pin: info.priorityPin,
  }
}

const validStatuses = new Set<string>([...trackerStatuses, 'undefined'])

function fail(field: string, value: unknown): never {
  throw new TypeError(`bad ${field} in a PinInfo: ${JSON.stringify(value)?.slice(0, 80)}`)
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, value)
  return value
}

function texts(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string'))
    fail(field, value)
  return value as string[]
}

function time(field: string, value: unknown): number | null {
  if (value === null) return null
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, value)
  return value
}

/** Reads a PinInfo from a peer; `peer` is who answered (a peer speaks only for itself). */
export function pinInfoFromWire(value: unknown, peer: string): PinInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('PinInfo', value)
  const wire = value as Record<string, unknown>
  const metadata = wire.metadata
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    fail('metadata', metadata)
  for (const entry of Object.values(metadata))
    if (typeof entry !== 'string') fail('metadata', metadata)
  const status = wire.status
  if (typeof status !== 'string' || !validStatuses.has(status)) fail('status', status)
  const attemptCount = wire.attempt_count
  if (typeof attemptCount !== 'number' || !Number.isSafeInteger(attemptCount) || attemptCount < 0)
    fail('attempt_count', attemptCount)
  if (typeof wire.priority_pin !== 'boolean') fail('priority_pin', wire.priority_pin)
  let cid: PinInfo['cid']
  try {
    cid = parseCid(wire.cid)
  } catch {
    fail('cid', wire.cid)
  }
  return {
    cid,
    name: text('name', wire.name),
    peer,
    allocations: texts('allocations', wire.allocations),
    origins: texts('origins', wire.origins),
    created: time('created', wire.created),
    metadata: metadata as Record<string, string>,
    peername: text('peername', wire.peername),
    ipfsPeerId: text('ipfs_peer_id', wire.ipfs_peer_id),
    ipfsPeerAddresses: texts('ipfs_peer_addresses', wire.ipfs_peer_addresses),
    status: status as TrackerStatus,
    timestamp: time('timestamp', wire.timestamp),
    error: text('error', wire.error),
    attemptCount,
    priorityPin: wire.priority_pin,
  }
}
