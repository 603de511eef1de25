import type { PinJson } from '../client/api-client.ts'
import type { IdJson } from '../http/id-json.ts'

const zeroTime = '0001-01-01T00:00:00Z'

/** A peer as ipfs-cluster-ctl prints it: `<id> | <peername> | Sees N other peers`, then addresses. */
export function formatId(id: IdJson): string {
  if (id.error !== '') return `${id.id} | ERROR: ${id.error}\n`
  const others = id.cluster_peers.filter((peer) => peer !== id.id).length
  const lines = [`${id.id} | ${id.peername} | Sees ${others} other peer${others === 1 ? '' : 's'}`]
  lines.push('  > Addresses:')
  for (const address of id.addresses) lines.push(`    - ${address}`)
  if (id.version !== '') lines.push(`  > Version: ${id.version}`)
  return `${lines.join('\n')}\n`
}

/** Go's `2006-01-02 15:04:05` of an RFC 3339 time, in the offset the time was written with. */
function goDateTime(time: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(time)
  return match === null ? time : `${match[1]} ${match[2]}`
}

function depth(maxDepth: number): string {
  if (maxDepth === 0) return 'Direct'
  if (maxDepth < 0) return 'Recursive'
  return `Recursive-${maxDepth}`
}

/**
 * One line per pin, as ipfs-cluster-ctl's `pin ls` prints it (textFormatPrintPin): type
 * (`-DIRECT` for direct pins), replication factors and sorted allocations, depth, whether it has
 * metadata, expiry and when it was added.
 */
export function formatPin(pin: PinJson): string {
  const type = pin.type.toUpperCase() + (pin.mode === 'direct' ? '-DIRECT' : '')
  const everywhere = pin.replication_factor_min === -1 && pin.replication_factor_max === -1
  const allocations = [...(pin.allocations ?? [])].sort()
  const placement = everywhere
    ? 'Repl. Factor: -1 | Allocations: [everywhere]'
    : `Repl. Factor: ${pin.replication_factor_min}--${pin.replication_factor_max} | Allocations: [${allocations.join(' ')}]`
  const hasMetadata = Object.keys(pin.metadata ?? {}).length > 0
  const expiry =
    pin.expire_at === zeroTime || pin.expire_at === '' ? '∞' : goDateTime(pin.expire_at)
  const added =
    pin.timestamp === zeroTime || pin.timestamp === '' ? 'unknown' : goDateTime(pin.timestamp)
  return `${pin.cid} | ${pin.name} | ${type} | ${placement} | ${depth(pin.max_depth)} | Metadata: ${hasMetadata ? 'yes' : 'no'} | Exp: ${expiry} | Added: ${added}\n`
}

export type Encoding = 'text' | 'json'

/**
 * Text for people, JSON for scripts. As ipfs-cluster-ctl, `--enc json` prints one JSON object
 * per value (a list: one per element), here each on one line, so `jq -r .cid` and
 * `jq -n '[inputs]'` both work.
 */
export function output<T>(encoding: Encoding, value: T, text: (value: T) => string): string {
  if (encoding === 'text') return text(value)
  const values: readonly unknown[] = Array.isArray(value) ? value : [value]
  return values.map((entry) => `${JSON.stringify(entry)}\n`).join('')
}
