import { type GlobalPinInfo, pinStatuses, recoverableStatuses } from './api-types.ts'

/** Per peer (by name, else ID), how many pins are in each status. */
export function countsByPeer(pins: readonly GlobalPinInfo[]): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>()
  for (const pin of pins) {
    for (const [peer, info] of Object.entries(pin.peer_map)) {
      const name = info.peername || peer
      let row = counts.get(name)
      if (row === undefined) {
        row = new Map()
        counts.set(name, row)
      }
      row.set(info.status, (row.get(info.status) ?? 0) + 1)
    }
  }
  return counts
}

/** The statuses that occur, in the page's order (unknown ones last, as they come). */
export function statusesPresent(counts: Map<string, Map<string, number>>): string[] {
  const present = new Set<string>()
  for (const row of counts.values()) for (const status of row.keys()) present.add(status)
  const known = pinStatuses.filter((status) => present.has(status))
  return [
    ...known,
    ...[...present].filter((status) => !(pinStatuses as readonly string[]).includes(status)),
  ]
}

/** Pins that some peer reports in a status `recover` acts on. */
export function pinsNeedingRecovery(pins: readonly GlobalPinInfo[]): GlobalPinInfo[] {
  return pins.filter((pin) =>
    Object.values(pin.peer_map).some((info) => recoverableStatuses.includes(info.status)),
  )
}

/** The one status of a pin if all peers agree, else the statuses joined. */
export function overallStatus(pin: GlobalPinInfo): string {
  const statuses = [...new Set(Object.values(pin.peer_map).map((info) => info.status))].sort()
  return statuses.length === 0 ? 'unknown' : statuses.join(', ')
}

/** Pins whose CID or name contains `query` (case-insensitive); all when it is empty. */
export function searchPins(pins: readonly GlobalPinInfo[], query: string): GlobalPinInfo[] {
  const wanted = query.trim().toLowerCase()
  if (wanted === '') return [...pins]
  return pins.filter(
    (pin) => pin.cid.toLowerCase().includes(wanted) || pin.name.toLowerCase().includes(wanted),
  )
}
