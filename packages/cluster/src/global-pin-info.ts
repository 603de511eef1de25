import type { PinInfo, StatusFilter, TrackerStatus } from '@pinraft/pintracker'
import { matchesFilter } from '@pinraft/pintracker'
import type { CID } from 'multiformats/cid'

/** One peer's entry in a GlobalPinInfo: IPFS Cluster 1.x's `api.PinInfoShort`. */
export interface PinInfoShort {
  readonly peername: string
  readonly ipfsPeerId: string
  readonly ipfsPeerAddresses: readonly string[]
  readonly status: TrackerStatus
  readonly timestamp: number | null
  readonly error: string
  readonly attemptCount: number
  readonly priorityPin: boolean
}

/** The cluster-wide status of one CID: IPFS Cluster 1.x's `api.GlobalPinInfo`. */
export interface GlobalPinInfo {
  cid: CID
  name: string
  allocations: readonly string[]
  origins: readonly string[]
  created: number | null
  metadata: Readonly<Record<string, string>>
  /** By cluster peer ID. */
  readonly peerMap: Map<string, PinInfoShort>
}

function short(info: PinInfo): PinInfoShort {
  return {
    peername: info.peername,
    ipfsPeerId: info.ipfsPeerId,
    ipfsPeerAddresses: info.ipfsPeerAddresses,
    status: info.status,
    timestamp: info.timestamp,
    error: info.error,
    attemptCount: info.attemptCount,
    priorityPin: info.priorityPin,
  }
}

/** A GlobalPinInfo holding one peer's status (1.x's PinInfo.ToGlobal). */
export function toGlobal(info: PinInfo): GlobalPinInfo {
  return {
    cid: info.cid,
    name: info.name,
    allocations: info.allocations,
    origins: info.origins,
    created: info.created,
    metadata: info.metadata,
    peerMap: new Map([[info.peer, short(info)]]),
  }
}

/**
 * Adds a peer's status (1.x's GlobalPinInfo.Add): the pin's fields are taken from any answer
 * but a cluster_error one, which knows nothing about the pin.
 */
export function addPinInfo(global: GlobalPinInfo, info: PinInfo): void {
  if (info.status !== 'cluster_error') {
    global.cid = info.cid
    global.name = info.name
    global.allocations = info.allocations
    global.origins = info.origins
    global.created = info.created
    global.metadata = info.metadata
  }
  global.peerMap.set(info.peer, short(info))
}

/** Whether a GlobalPinInfo has a peer in one of the filter's statuses (1.x's Match). */
export function globalMatches(global: GlobalPinInfo, filter: StatusFilter): boolean {
  for (const entry of global.peerMap.values()) if (matchesFilter(entry.status, filter)) return true
  return false
}

/** Go's encoding/json string: JSON with <, > and & escaped (so output matches 1.x byte for byte). */
export function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** A time as Go's time.Time marshals to JSON (RFC 3339, trailing zeros of the fraction dropped). */
export function goTime(milliseconds: number | null): string {
  if (milliseconds === null) return '0001-01-01T00:00:00Z'
  const iso = new Date(milliseconds).toISOString()
  // "2026-12-01T12:00:00.120Z" → "2026-12-01T12:00:00.12Z"; ".000Z" → "Z".
  return iso.replace(/\.(\d*?)0*Z$/, (_match, digits: string) =>
    digits === '' ? 'Z' : `.${digits}Z`,
  )
}

function strings(values: readonly string[]): string {
  return `[${values.map(goString).join(',')}]`
}

function sortedKeys(keys: Iterable<string>): string[] {
  // Go sorts map keys by their bytes.
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The JSON of 1.x's PinInfoShort, fields in Go's order, omitempty where Go omits. */
function pinInfoShortJson(entry: PinInfoShort): string {
  return (
    `{"peername":${goString(entry.peername)}` +
    (entry.ipfsPeerId === '' ? '' : `,"ipfs_peer_id":${goString(entry.ipfsPeerId)}`) +
    (entry.ipfsPeerAddresses.length === 0
      ? ''
      : `,"ipfs_peer_addresses":${strings(entry.ipfsPeerAddresses)}`) +
    `,"status":"${entry.status}"` +
    `,"timestamp":"${goTime(entry.timestamp)}"` +
    `,"error":${goString(entry.error)}` +
    `,"attempt_count":${entry.attemptCount}` +
    `,"priority_pin":${entry.priorityPin}}`
  )
}

/**
 * A GlobalPinInfo as 1.x's REST API writes it (`GET /pins`, `GET /pins/{cid}`): fields in Go's
 * order, peer_map sorted by peer ID, empty metadata as null.
 */
export function globalPinInfoToJson(global: GlobalPinInfo): string {
  const metadataKeys = sortedKeys(Object.keys(global.metadata))
  const metadata =
    metadataKeys.length === 0
      ? 'null'
      : `{${metadataKeys.map((key) => `${goString(key)}:${goString(global.metadata[key]!)}`).join(',')}}`
  const peers = sortedKeys(global.peerMap.keys())
  return (
    `{"cid":"${global.cid.toString()}"` +
    `,"name":${goString(global.name)}` +
    `,"allocations":${strings(global.allocations)}` +
    `,"origins":${strings(global.origins)}` +
    `,"created":"${goTime(global.created)}"` +
    `,"metadata":${metadata}` +
    `,"peer_map":{${peers.map((peer) => `${goString(peer)}:${pinInfoShortJson(global.peerMap.get(peer)!)}`).join(',')}}}`
  )
}
