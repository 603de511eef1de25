import { type GlobalPinInfoJson, StatusClient } from '../client/status-client.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import type { Encoding } from './format.ts'
import type { CliIo } from './io.ts'

/**
 * A GlobalPinInfo as ipfs-cluster-ctl prints it: the CID (and name), then one line per peer,
 * sorted by peer ID: `> <peername or ID, padded to 20> : <STATUS>[: error] | <time> |
 * Attempts: N | Priority: bool`.
 */
export function formatGlobalPinInfo(global: GlobalPinInfoJson): string {
  const lines = [`${global.cid}${global.name === '' ? '' : ` | ${global.name}`}:`]
  for (const peer of Object.keys(global.peer_map).sort()) {
    const entry = global.peer_map[peer]!
    const label = entry.peername === '' ? peer : entry.peername
    lines.push(
      `    > ${label.padEnd(20)} : ${entry.status.toUpperCase()}${entry.error === '' ? '' : `: ${entry.error}`} | ${entry.timestamp} | Attempts: ${entry.attempt_count} | Priority: ${entry.priority_pin}`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** Text for people, or with `--enc json` one object per line (so a stream stays a stream). */
export function statusLine(encoding: Encoding, global: GlobalPinInfoJson): string {
  return encoding === 'json' ? `${JSON.stringify(global)}\n` : formatGlobalPinInfo(global)
}

/** The status client for the API the client options point at (same --host, auth and timeout). */
export async function statusClient(options: ClientOptions, io: CliIo): Promise<StatusClient> {
  const api = await apiClient(options, io)
  return new StatusClient({
    baseUrl: api.baseUrls,
    basicAuth: api.basicAuth,
    timeout: Number(options.timeout) * 1000,
    checkCertificate: options.checkCertificate !== false,
  })
}
