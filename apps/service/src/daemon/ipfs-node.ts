import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createEmbeddedConnector,
  createKuboConnector,
  type IpfsConnector,
} from '@pinraft/ipfs-connector'
import {
  generateIdentity,
  type Identity,
  identityFromJson,
  identityToJson,
} from '../config/identity.ts'
import type { ServiceConfiguration } from '../config/service-configuration.ts'
import { ConfigurationError } from '../errors.ts'
import type { IdJson } from '../http/id-json.ts'

/** The embedded IPFS node's key, beside the cluster's `identity.json` (same form). */
export const IPFS_IDENTITY_FILE = 'ipfs-identity.json'
/** The embedded node's repository: `ipfs/blocks` and `ipfs/datastore`. */
export const IPFS_REPOSITORY_FOLDER = 'ipfs'

/**
 * Reads the IPFS node's identity, creating it on first use: a folder initialized before the
 * connector existed gets one on its next start, and keeps it from then on.
 */
export async function loadOrCreateIpfsIdentity(folder: string): Promise<Identity> {
  const path = join(folder, IPFS_IDENTITY_FILE)
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigurationError(path, `cannot be read: ${(error as Error).message}`)
    }
  }
  if (text !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new ConfigurationError(
        path,
        `is not valid JSON (${(error as Error).message}); restore it, or delete it to give the IPFS node a new peer ID`,
      )
    }
    return identityFromJson(parsed, path)
  }
  const identity = await generateIdentity()
  const temporary = `${path}.tmp`
  const handle = await open(temporary, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(identityToJson(identity), null, 2)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, path)
  return identity
}

/** The connector `ipfs_connector` names: the embedded Helia node or Kubo's RPC API. */
export async function createIpfsConnector(
  configuration: ServiceConfiguration,
): Promise<IpfsConnector> {
  const section = configuration.ipfsConnector
  if (section.kind === 'ipfshttp') {
    return createKuboConnector({ configuration: section.ipfshttp })
  }
  const identity = await loadOrCreateIpfsIdentity(configuration.folder)
  return createEmbeddedConnector({
    configuration: section.embedded,
    folder: join(configuration.folder, IPFS_REPOSITORY_FOLDER),
    privateKey: identity.privateKey,
  })
}

/** `/id`'s `ipfs` object (1.x's IPFSID): the node's ID and addresses, or why it cannot say. */
export async function ipfsIdJson(
  connector: IpfsConnector,
  options?: { signal?: AbortSignal },
): Promise<IdJson['ipfs']> {
  try {
    const id = await connector.id(options)
    return { id: id.id, addresses: [...id.addresses], error: '' }
  } catch (error) {
    return { addresses: [], error: (error as Error).message }
  }
}

/** How long the daemon waits after start before connecting its IPFS node to the others'. */
export function connectSwarmsDelay(configuration: ServiceConfiguration): number {
  const section = configuration.ipfsConnector
  return section.kind === 'ipfshttp'
    ? section.ipfshttp.connectSwarmsDelay
    : section.embedded.connectSwarmsDelay
}
