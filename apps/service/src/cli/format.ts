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

function replication(pin: PinJson): string {
  if (pin.replication_factor_min < 0) return 'everywhere'
  return `${pin.replication_factor_min}-${pin.replication_factor_max}`
}

/** One line per pin, as ipfs-cluster-ctl's `pin ls` does. */
export function formatPin(pin: PinJson): string {
  const parts = [
    pin.cid,
    pin.name === '' ? '-' : pin.name,
    pin.type.toUpperCase(),
    `Repl. Factor: ${replication(pin)}`,
  ]
  parts.push(pin.mode === 'direct' ? 'Direct' : 'Recursive')
  const metadata = Object.entries(pin.metadata ?? {})
  parts.push(
    `Metadata: ${metadata.length === 0 ? 'no' : metadata.map(([key, value]) => `${key}=${value}`).join(',')}`,
  )
  parts.push(`Exp: ${pin.expire_at === zeroTime || pin.expire_at === '' ? '∞' : pin.expire_at}`)
  parts.push(`Added: ${pin.timestamp === zeroTime ? '-' : pin.timestamp}`)
  return `${parts.join(' | ')}\n`
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
