import { readFile } from 'node:fs/promises'
import { type Command, Option } from 'commander'
import { ApiClient } from '../client/api-client.ts'
import { insecureFetch } from '../client/insecure-fetch.ts'
import { httpUrlFromAddress, tcpAddressFromMultiaddr } from '../config/listen-address.ts'
import { configurationFolder, servicePath } from '../config/paths.ts'
import { DEFAULT_API_LISTEN } from '../config/sections.ts'
import { UsageError } from '../errors.ts'
import type { Encoding } from './format.ts'
import type { CliIo } from './io.ts'

/** ipfs-cluster-ctl's client flags, global: accepted before or after the command. */
export interface ClientOptions {
  host?: string
  basicAuth?: string
  enc: Encoding
  timeout: string
  /** The flags below are always set by commander; optional for callers building options. */
  https?: boolean
  forceHttp?: boolean
  /** `--no-check-certificate` makes it false. */
  checkCertificate?: boolean
  debug?: boolean
  config?: string
}

/** Adds ctl's client flags to the program (commander accepts them after the command too). */
export function addClientOptions(program: Command): Command {
  return program
    .option(
      '--host <addresses>',
      'the API to talk to: a multiaddress (/ip4/127.0.0.1/tcp/9094) or URL, or several separated by commas, tried in order until one answers; default: PINRAFT_HOST, else the api.restapi address of the config folder, else /ip4/127.0.0.1/tcp/9094',
    )
    .option(
      '--basic-auth <user[:password]>',
      'credentials for an API with basic_auth_credentials (or CLUSTER_CREDENTIALS, PINRAFT_BASIC_AUTH); implies --https for multiaddress hosts unless --force-http',
    )
    .option('-s, --https', 'use HTTPS to reach a multiaddress --host', false)
    .option('--force-http', 'use HTTP even with --basic-auth', false)
    .option(
      '--no-check-certificate',
      "do not verify the API's TLS certificate (a self-signed one); only with HTTPS",
    )
    .addOption(
      new Option(
        '--enc <encoding>',
        'output encoding: text for people, json for scripts (one JSON object per line)',
      )
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-t, --timeout <seconds>', 'give up on a request after this many seconds', '60')
    .option('-d, --debug', 'print each HTTP request and its answer to stderr', false)
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
  const environment = io.environment
  const basicAuth =
    options.basicAuth ?? environment.CLUSTER_CREDENTIALS ?? environment.PINRAFT_BASIC_AUTH
  const credentials =
    basicAuth === undefined || basicAuth === ''
      ? undefined
      : basicAuth.includes(':')
        ? basicAuth
        : `${basicAuth}:` // ctl: a user name alone has an empty password
  // As ctl: credentials go over HTTPS unless the operator insists (--force-http).
  let https = options.https === true
  if (credentials !== undefined && !https && options.forceHttp !== true) {
    https = true
    io.stderr(
      'warning: HTTPS enabled because of the basic auth credentials; pass --force-http to send them over HTTP\n',
    )
  }
  const explicit = options.host ?? environment.PINRAFT_HOST
  let urls: string[]
  if (explicit !== undefined && explicit !== '') {
    urls = explicit
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => baseUrl(entry, https))
    if (urls.length === 0) throw new UsageError('--host needs at least one address')
  } else {
    const configured = await configuredApi(configurationFolder(options.config, environment))
    urls = [
      configured === null
        ? baseUrl(DEFAULT_API_LISTEN, https)
        : baseUrl(configured.address, https || configured.https),
    ]
  }
  const insecure = options.checkCertificate === false
  return new ApiClient({
    baseUrl: urls,
    basicAuth: credentials,
    timeout: timeout * 1000,
    ...(insecure ? { fetch: insecureFetch } : {}),
    ...(options.debug === true ? { debug: (line: string) => io.stderr(`debug: ${line}\n`) } : {}),
  })
}

/** The client options of a command's invocation (they are the program's). */
export function clientOptions(command: Command): ClientOptions {
  return command.optsWithGlobals<ClientOptions>()
}
