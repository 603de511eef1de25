import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** Files of a configuration folder, named as IPFS Cluster names them. */
export const SERVICE_FILE = 'service.json'
export const IDENTITY_FILE = 'identity.json'
export const PEERSTORE_FILE = 'peerstore'
/** Held by a running daemon (and by offline state commands) so two never share a folder. */
export const LOCK_FILE = 'daemon.lock'

/** `--config`, else `PINRAFT_PATH`, else `~/.pinraft`. */
export function configurationFolder(
  option: string | undefined,
  environment: NodeJS.ProcessEnv = process.env,
): string {
  const chosen = option ?? environment.PINRAFT_PATH
  return resolve(chosen !== undefined && chosen !== '' ? chosen : join(homedir(), '.pinraft'))
}

export function servicePath(folder: string): string {
  return join(folder, SERVICE_FILE)
}

export function identityPath(folder: string): string {
  return join(folder, IDENTITY_FILE)
}

export function peerstorePath(folder: string): string {
  return join(folder, PEERSTORE_FILE)
}

export function lockPath(folder: string): string {
  return join(folder, LOCK_FILE)
}
