import { readFile } from 'node:fs/promises'
import { type Command, Option } from 'commander'
import { ApiClient } from '../client/api-client.ts'
import { httpUrlFromAddress, tcpAddressFromMultiaddr } from '../config/listen-address.ts'
import { configurationFolder, servicePath } from '../config/paths.ts'
import { DEFAULT_API_LISTEN } from '../config/sections.ts'
import { UsageError } from '../errors.ts'
import type { Encoding } from './format.ts'
import type { CliIo } from './io.ts'

export interface ClientOptions {
  host?: string
  basicAuth?: string
  enc: Encoding
  timeout: string
  config?: string
}

/** The options every client command takes. */
export function withClientOptions(command: Command): Command {
  return command
    .option(
      '--host <address>',
      'the API to talk to, as a multiaddress (/ip4/127.0.0.1/tcp/9094) or URL; default: PINRAFT_HOST, else the api.restapi address of the config folder, else /ip4/127.0.0.1/tcp/9094',
    )
    .option(
      '--basic-auth <user:password>',
      'credentials for an API with basic_auth_credentials (or PINRAFT_BASIC_AUTH)',
    )
    .addOption(
      new Option('--enc <encoding>', 'output encoding').choices(['text', 'json']).default('text'),
    )
    .option('--timeout <seconds>', 'give up on the request after this many seconds', '60')
}

/** The API address configured in the folder, if the folder has a readable service.json. */
async function configuredApi(folder: string): Promise<{ address: string; https: boolean } | null> {
  try {
    const json = JSON.parse(await readFile(servicePath(folder), 'utf8')) as {
      api?: { restapi?: { http_listen_multiaddress?: unknown; ssl_cert_file?: unknown } }
    }
    const restapi = json.api?.restapi
    if (typeof restapi?.http_listen_multiaddress !== 'string') return null
    return {
      address: restapi.http_listen_multiaddress,
      https: typeof restapi.ssl_cert_file === 'string' && restapi.ssl_cert_file !== '',
    }
  } catch {
    return null
  }
}

function baseUrl(address: string, https: boolean): string {
  if (/^https?:\/\//.test(address)) return address
  const parsed = tcpAddressFromMultiaddr(address)
  if ('error' in parsed) {
    throw new UsageError(
      `--host ${JSON.stringify(address)} ${parsed.error}, or be a URL such as http://127.0.0.1:9094`,
    )
  }
  return httpUrlFromAddress(parsed, https || address.endsWith('/https'))
}

export async function apiClient(options: ClientOptions, io: CliIo): Promise<ApiClient> {
  const timeout = Number(options.timeout)
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, got ${options.timeout}`)
  const explicit = options.host ?? io.environment.PINRAFT_HOST
  let url: string
  if (explicit !== undefined && explicit !== '') {
    url = baseUrl(explicit, false)
  } else {
    const configured = await configuredApi(configurationFolder(options.config, io.environment))
    url =
      configured === null
        ? baseUrl(DEFAULT_API_LISTEN, false)
        : baseUrl(configured.address, configured.https)
  }
  const basicAuth = options.basicAuth ?? io.environment.PINRAFT_BASIC_AUTH
  if (basicAuth !== undefined && basicAuth !== '' && !basicAuth.includes(':')) {
    throw new UsageError('--basic-auth must be user:password')
  }
  return new ApiClient({
    baseUrl: url,
    basicAuth: basicAuth === '' ? undefined : basicAuth,
    timeout: timeout * 1000,
  })
}
