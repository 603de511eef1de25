import { readFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ConfigurationError, ConfigurationMissingError } from '../errors.ts'
import { identityPath } from './paths.ts'

/** `identity.json`: this peer's key and ID, IPFS Cluster's form (`id`, base64 protobuf `private_key`). */
export interface Identity {
  readonly peerId: string
  readonly privateKey: PrivateKey
}

export interface IdentityJson {
  id: string
  private_key: string
}

export async function generateIdentity(): Promise<Identity> {
  const privateKey = await generateKeyPair('Ed25519')
  return { peerId: peerIdFromPrivateKey(privateKey).toString(), privateKey }
}

export function identityToJson(identity: Identity): IdentityJson {
  return {
    id: identity.peerId,
    private_key: Buffer.from(privateKeyToProtobuf(identity.privateKey)).toString('base64'),
  }
}

/** Validates `identity.json`'s content: the key must decode and the ID must be the key's. */
export function identityFromJson(json: unknown, source = 'identity.json'): Identity {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigurationError(source, 'must hold a JSON object with "id" and "private_key"')
  }
  const { id, private_key: encoded } = json as Record<string, unknown>
  if (typeof encoded !== 'string' || encoded === '') {
    throw new ConfigurationError(
      `${source} private_key`,
      'must be the base64 of a libp2p private key',
    )
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(new Uint8Array(Buffer.from(encoded, 'base64')))
  } catch (error) {
    throw new ConfigurationError(
      `${source} private_key`,
      `does not decode as a libp2p private key (${(error as Error).message}); restore the file from a backup, or run \`pinraft init --force\` for a new identity`,
    )
  }
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  if (id !== peerId) {
    throw new ConfigurationError(
      `${source} id`,
      `is ${JSON.stringify(id)} but the private key's peer ID is ${peerId}; set "id" to ${peerId} (the key is what counts)`,
    )
  }
  return { peerId, privateKey }
}

export async function loadIdentity(folder: string): Promise<Identity> {
  const path = identityPath(folder)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigurationMissingError(`no identity at ${path}: run \`pinraft init\` first`)
    }
    throw new ConfigurationError(path, `cannot be read: ${(error as Error).message}`, {
      cause: error,
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigurationError(path, `is not valid JSON (${(error as Error).message})`)
  }
  return identityFromJson(parsed, path)
}
