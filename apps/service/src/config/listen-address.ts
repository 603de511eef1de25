import { multiaddr } from '@multiformats/multiaddr'

/** A TCP listening address taken from a multiaddress (`/ip4/127.0.0.1/tcp/9094`). */
export interface TcpAddress {
  readonly host: string
  readonly port: number
}

const hostProtocols = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/**
 * Reads `/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>` into host and port, or explains what is
 * wrong with it. Anything after the port (`/http`, `/https`) is accepted and ignored.
 */
export function tcpAddressFromMultiaddr(text: string): TcpAddress | { error: string } {
  let components: ReturnType<ReturnType<typeof multiaddr>['getComponents']>
  try {
    components = multiaddr(text).getComponents()
  } catch (error) {
    return { error: `is not a valid multiaddress (${(error as Error).message})` }
  }
  const [hostPart, portPart] = components
  if (
    hostPart === undefined ||
    !hostProtocols.has(hostPart.name) ||
    portPart === undefined ||
    portPart.name !== 'tcp' ||
    hostPart.value === undefined ||
    portPart.value === undefined
  ) {
    return { error: 'must look like /ip4/<address>/tcp/<port> (or /ip6, /dns4, /dns6, /dns)' }
  }
  const port = Number(portPart.value)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    return { error: `has an invalid TCP port ${JSON.stringify(portPart.value)}` }
  }
  return { host: hostPart.value, port }
}

/** Whether a host only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

/** The HTTP base URL of an API listening address (`/ip4/127.0.0.1/tcp/9094` → `http://127.0.0.1:9094`). */
export function httpUrlFromAddress(address: TcpAddress, https: boolean): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host
  return `${https ? 'https' : 'http'}://${reachable}:${address.port}`
}
