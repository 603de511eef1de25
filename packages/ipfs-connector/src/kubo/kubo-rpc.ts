import { multiaddr } from '@multiformats/multiaddr'
import {
  InvalidConnectorConfigurationError,
  IpfsRequestError,
  IpfsUnreachableError,
} from '../errors.ts'

/** Kubo's error body (go-ipfs-cmds): `{"Message": "...", "Code": 0, "Type": "error"}`. */
interface KuboErrorJson {
  Message?: unknown
  Type?: unknown
}

function isKuboError(value: unknown): value is KuboErrorJson {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as KuboErrorJson).Type === 'error' &&
    typeof (value as KuboErrorJson).Message === 'string'
  )
}

/** `http://host:port` from a node multiaddress (`/ip4/127.0.0.1/tcp/5001`, `/dns4/kubo/tcp/5001`). */
export function rpcUrlFromMultiaddress(address: string): string {
  const components = multiaddr(address).getComponents()
  const host = components[0]
  const port = components[1]
  if (
    host === undefined ||
    port === undefined ||
    port.name !== 'tcp' ||
    !['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(host.name)
  ) {
    throw new InvalidConnectorConfigurationError(
      'ipfshttp.node_multiaddress',
      `must be /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port> (Kubo's Addresses.API), got ${address}`,
    )
  }
  const hostText = host.name === 'ip6' ? `[${host.value}]` : (host.value as string)
  const scheme = components.some((part) => part.name === 'https' || part.name === 'tls')
    ? 'https'
    : 'http'
  return `${scheme}://${hostText}:${port.value}`
}

export interface RpcCallOptions {
  readonly signal: AbortSignal
  readonly body?: FormData
}

/**
 * A client for Kubo's RPC API (`POST /api/v0/<command>?arg=…`): it turns Kubo's error bodies,
 * bad statuses and an unreachable daemon into errors that say what happened and what to do.
 */
export class KuboRpc {
  readonly url: string

  constructor(nodeMultiaddress: string) {
    this.url = rpcUrlFromMultiaddress(nodeMultiaddress)
  }

  async #post(
    command: string,
    parameters: readonly (readonly [string, string])[],
    options: RpcCallOptions,
  ): Promise<Response> {
    const query = new URLSearchParams(parameters as [string, string][]).toString()
    const target = `${this.url}/api/v0/${command}${query === '' ? '' : `?${query}`}`
    let response: Response
    try {
      response = await fetch(target, { method: 'POST', body: options.body, signal: options.signal })
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason ?? error
      throw new IpfsUnreachableError(
        `cannot reach Kubo's RPC API at ${this.url} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}): check that the Kubo daemon runs and that ipfs_connector.ipfshttp.node_multiaddress matches its Addresses.API`,
        { cause: error },
      )
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '')
      let message = text.trim()
      try {
        const parsed: unknown = JSON.parse(text)
        if (isKuboError(parsed)) message = parsed.Message as string
      } catch {
        // Not JSON (a proxy's error page, say): the text itself is reported.
      }
      throw new IpfsRequestError(
        `Kubo answered ${command} with ${response.status}${message === '' ? '' : `: ${message}`}`,
        response.status,
      )
    }
    return response
  }

  /** A command answering one JSON object. */
  async json(
    command: string,
    parameters: readonly (readonly [string, string])[],
    options: RpcCallOptions,
  ): Promise<Record<string, unknown>> {
    const response = await this.#post(command, parameters, options)
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new IpfsRequestError(`Kubo answered ${command} with something that is not JSON`, 200)
    }
    if (isKuboError(parsed)) throw new IpfsRequestError(`Kubo: ${parsed.Message as string}`, 200)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new IpfsRequestError(
        `Kubo answered ${command} with a JSON value that is not an object`,
        200,
      )
    }
    return parsed as Record<string, unknown>
  }

  /** A command answering raw bytes (`block/get`). */
  async bytes(
    command: string,
    parameters: readonly (readonly [string, string])[],
    options: RpcCallOptions,
  ): Promise<Uint8Array> {
    const response = await this.#post(command, parameters, options)
    return new Uint8Array(await response.arrayBuffer())
  }

  /**
   * A streamed command: one JSON object per line. An error Kubo reports half-way (a line with
   * `"Type": "error"`) is thrown where it appears.
   */
  async *stream(
    command: string,
    parameters: readonly (readonly [string, string])[],
    options: RpcCallOptions,
  ): AsyncGenerator<Record<string, unknown>> {
    const response = await this.#post(command, parameters, options)
    if (response.body === null) return
    const decoder = new TextDecoder()
    let buffered = ''
    const parseLine = (line: string): Record<string, unknown> | undefined => {
      if (line.trim() === '') return undefined
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        throw new IpfsRequestError(`Kubo's ${command} stream held a line that is not JSON`, 200)
      }
      if (isKuboError(parsed)) throw new IpfsRequestError(`Kubo: ${parsed.Message as string}`, 200)
      return parsed as Record<string, unknown>
    }
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true })
      let newline = buffered.indexOf('\n')
      while (newline >= 0) {
        const value = parseLine(buffered.slice(0, newline))
        buffered = buffered.slice(newline + 1)
        if (value !== undefined) yield value
        newline = buffered.indexOf('\n')
      }
    }
    const last = parseLine(buffered + decoder.decode())
    if (last !== undefined) yield last
  }
}
