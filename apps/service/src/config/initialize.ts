import { randomBytes } from 'node:crypto'
import { access, mkdir, open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { resolveIpfsHttpConfiguration } from '@pinraft/ipfs-connector/configuration'
import { parsePeerMultiaddr, savePeerstoreFile } from '@pinraft/pstoremgr'
import { ConfigurationError, ConfigurationExistsError, UsageError } from '../errors.ts'
import { generateIdentity, type Identity, identityToJson } from './identity.ts'
import { identityPath, peerstorePath, servicePath } from './paths.ts'
import { defaultServiceJson, type ServiceJson } from './sections.ts'

export interface InitializeOptions {
  readonly folder: string
  /** `--peers`: multiaddresses written to the peerstore file. */
  readonly peers: readonly string[]
  readonly force: boolean
  /** `PINRAFT_SECRET`: the cluster secret to use instead of a random one (64 hex characters). */
  readonly secret?: string
  /** `--ipfs-api`: use Kubo's RPC API at this multiaddress instead of the embedded IPFS node. */
  readonly ipfsApi?: string
  /** `init --from`: the converted configuration and identity, written instead of new ones. */
  readonly converted?: { readonly serviceJson: ServiceJson; readonly identity: Identity }
}

export interface InitializeResult {
  readonly peerId: string
  readonly files: readonly string[]
  /** Whether the secret was generated (a new cluster) rather than given. */
  readonly generatedSecret: boolean
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/** Writes a file through a flushed temporary file and a rename, so a crash leaves old or new. */
async function writeFileAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`
  const handle = await open(temporary, 'w', mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, path)
  const folder = await open(dirname(path), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/**
 * `pinraft init`: creates the configuration folder with `service.json` (every section at its
 * defaults, no `peers`/`bootstrap`), `identity.json` (a new Ed25519 key) and, from `peers`, the
 * peerstore file. Everything is validated before anything is written; existing files are only
 * replaced with `force`.
 */
export async function initializeFolder(options: InitializeOptions): Promise<InitializeResult> {
  const { folder } = options
  const service = servicePath(folder)
  const identityFile = identityPath(folder)
  const existing = [service, identityFile].filter((path) => path !== '')
  const present = (
    await Promise.all(existing.map(async (path) => ((await exists(path)) ? path : null)))
  ).filter((path): path is string => path !== null)
  if (present.length > 0 && !options.force) {
    throw new ConfigurationExistsError(
      `${present.join(' and ')} already exist${present.length === 1 ? 's' : ''}: nothing was changed. Run \`pinraft init --force\` to replace the configuration and identity (the peer gets a new peer ID), or use another folder with --config`,
    )
  }
  const peers = options.peers.map((address) => {
    try {
      return parsePeerMultiaddr(address, { source: '--peers' }).multiaddr
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
  })
  const given = options.secret?.trim()
  if (given !== undefined && given !== '' && !/^[0-9a-fA-F]{64}$/.test(given)) {
    throw new ConfigurationError(
      'PINRAFT_SECRET',
      'must be 64 hexadecimal characters (32 bytes), the secret of the cluster to join; copy cluster.secret from the service.json of a running peer',
    )
  }
  if (options.ipfsApi !== undefined) {
    // Refused now rather than at the daemon's start: init writes nothing it cannot read.
    resolveIpfsHttpConfiguration({ node_multiaddress: options.ipfsApi })
  }
  const generatedSecret = options.converted === undefined && (given === undefined || given === '')
  const secret = generatedSecret ? randomBytes(32).toString('hex') : (given ?? '').toLowerCase()
  const identity = options.converted?.identity ?? (await generateIdentity())
  const serviceJson = options.converted?.serviceJson ?? defaultServiceJson(secret, options.ipfsApi)
  if (options.converted !== undefined && options.ipfsApi !== undefined) {
    serviceJson.ipfs_connector = defaultServiceJson(secret, options.ipfsApi).ipfs_connector
  }

  await mkdir(folder, { recursive: true, mode: 0o700 })
  // Both files hold secrets: readable by their owner only.
  await writeFileAtomically(service, `${JSON.stringify(serviceJson, null, 2)}\n`, 0o600)
  await writeFileAtomically(
    identityFile,
    `${JSON.stringify(identityToJson(identity), null, 2)}\n`,
    0o600,
  )
  const files = [service, identityFile]
  const path = peerstorePath(folder)
  // With --force the peerstore is reset too (to --peers, or empty), as ipfs-cluster-service's
  // `init -f` does: addresses of another cluster must not linger.
  if (peers.length > 0 || (options.force && (await exists(path)))) {
    await savePeerstoreFile(path, peers)
    files.push(path)
  }
  return { peerId: identity.peerId, files, generatedSecret }
}
