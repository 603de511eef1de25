import { InvalidConnectorConfigurationError } from '../errors.ts'
import {
  type EmbeddedConfiguration,
  type EmbeddedConfigurationJson,
  resolveEmbeddedConfiguration,
} from './embedded-configuration.ts'
import {
  type IpfsHttpConfiguration,
  type IpfsHttpConfigurationJson,
  resolveIpfsHttpConfiguration,
} from './ipfshttp-configuration.ts'

/** service.json's `ipfs_connector`: exactly one of `embedded` and `ipfshttp`. */
export interface ConnectorConfigurationJson {
  embedded?: EmbeddedConfigurationJson
  ipfshttp?: IpfsHttpConfigurationJson
}

export type ConnectorConfiguration =
  | { readonly kind: 'embedded'; readonly embedded: EmbeddedConfiguration }
  | { readonly kind: 'ipfshttp'; readonly ipfshttp: IpfsHttpConfiguration }

/**
 * Resolves `ipfs_connector`. A missing section means the embedded node with its defaults, so a
 * service.json written before the connector existed keeps working.
 */
export function resolveConnectorConfiguration(json: unknown): ConnectorConfiguration {
  if (json === undefined || json === null) {
    return { kind: 'embedded', embedded: resolveEmbeddedConfiguration(undefined) }
  }
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidConnectorConfigurationError(
      '',
      'must be an object holding either "embedded" or "ipfshttp"',
    )
  }
  const section = json as Record<string, unknown>
  for (const key of Object.keys(section)) {
    if (key !== 'embedded' && key !== 'ipfshttp') {
      throw new InvalidConnectorConfigurationError(
        key,
        'is not a known connector; use "embedded" (a Helia node inside the daemon) or "ipfshttp" (Kubo over its RPC API)',
      )
    }
  }
  const hasEmbedded = section.embedded !== undefined
  const hasHttp = section.ipfshttp !== undefined
  if (hasEmbedded && hasHttp) {
    throw new InvalidConnectorConfigurationError(
      '',
      'holds both "embedded" and "ipfshttp": keep only the one this peer should use',
    )
  }
  const object = (key: string, value: unknown): Record<string, unknown> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidConnectorConfigurationError(key, 'must be a JSON object')
    }
    return value as Record<string, unknown>
  }
  if (hasHttp) {
    return {
      kind: 'ipfshttp',
      ipfshttp: resolveIpfsHttpConfiguration(object('ipfshttp', section.ipfshttp)),
    }
  }
  return {
    kind: 'embedded',
    embedded: resolveEmbeddedConfiguration(
      hasEmbedded ? object('embedded', section.embedded) : undefined,
    ),
  }
}
