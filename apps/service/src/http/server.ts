import { readFile } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { httpUrlFromAddress, isLoopbackHost } from '../config/listen-address.ts'
import type { RestApiConfiguration } from '../config/service-configuration.ts'
import { ConfigurationError } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'
import type { ApiContext } from './api-context.ts'
import { createApp } from './app.ts'
import type { PeerMetrics } from './metrics.ts'

export interface ApiServer {
  readonly app: FastifyInstance
  /** The base URL clients use (`http://127.0.0.1:9094`), with the port actually bound. */
  readonly url: string
  /** Stops accepting requests, lets running ones finish (up to `graceMilliseconds`), then closes. */
  close(graceMilliseconds?: number): Promise<void>
}

async function readTlsFile(path: string, key: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new ConfigurationError(
      `api.restapi.${key}`,
      `cannot be read at ${path}: ${(error as Error).message}`,
    )
  }
}

/** Creates the app from `api.restapi` and listens; warns when the API is exposed without auth. */
export async function startApiServer(
  context: ApiContext,
  configuration: RestApiConfiguration,
  logger: Logger,
  metrics?: PeerMetrics,
): Promise<ApiServer> {
  const https =
    configuration.tls === null
      ? undefined
      : {
          cert: await readTlsFile(configuration.tls.certFile, 'ssl_cert_file'),
          key: await readTlsFile(configuration.tls.keyFile, 'ssl_key_file'),
        }
  // Node checks header timeouts only every `connectionsCheckingInterval` (30 s by default), so
  // slow clients held sockets long past read_header_timeout: check often enough to enforce it.
  const socketOptions = {
    // Each answer is one small write: Nagle's algorithm would hold it for the client's ACK.
    noDelay: true,
    maxHeaderSize: configuration.maxHeaderBytes,
    headersTimeout: configuration.readHeaderTimeout,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(
      100,
      Math.min(1000, Math.floor(configuration.readHeaderTimeout / 2)),
    ),
  }
  const app = createApp({
    context,
    ...(metrics === undefined ? {} : { metrics }),
    api: {
      basicAuthCredentials: configuration.basicAuthCredentials,
      headers: configuration.headers,
      cors: configuration.cors,
    },
    server: {
      ...(https === undefined ? {} : { https: { ...socketOptions, ...https } }),
      keepAliveTimeout: configuration.idleTimeout,
      http: socketOptions,
      return503OnClosing: true,
    },
  })
  app.server.headersTimeout = configuration.readHeaderTimeout
  const { host, port } = configuration.listen
  await app.listen({ host, port })
  const bound = app.server.address()
  const actualPort = typeof bound === 'object' && bound !== null ? bound.port : port
  const url = httpUrlFromAddress({ host, port: actualPort }, https !== undefined)
  if (!isLoopbackHost(host) && configuration.basicAuthCredentials === null) {
    logger.warn(
      { address: configuration.listenMultiaddress },
      'the HTTP API listens on a non-loopback address WITHOUT authentication: anyone who can reach it can pin, unpin and remove peers. Set api.restapi.basic_auth_credentials (and ssl_cert_file/ssl_key_file), or listen on 127.0.0.1',
    )
  }
  logger.info(
    { url, tls: https !== undefined, auth: configuration.basicAuthCredentials !== null },
    'HTTP API listening',
  )
  let closing: Promise<void> | undefined
  return {
    app,
    url,
    close(graceMilliseconds = 5000) {
      closing ??= (async () => {
        const timer = setTimeout(() => app.server.closeAllConnections(), graceMilliseconds)
        try {
          await app.close()
        } finally {
          clearTimeout(timer)
        }
      })()
      return closing
    },
  }
}
