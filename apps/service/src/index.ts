/**
 * @packageDocumentation
 *
 * The pinraft peer: its daemon, its IPFS Cluster 1.x compatible HTTP API and its CLI
 * (`pinraft`). The modules are exported for embedding and tests; operators run the binary.
 */

export type { CliIo } from './cli/io.ts'
export { runCli } from './cli/program.ts'
export {
  ApiClient,
  type ApiClientInit,
  type PinJson,
  type PinOptions,
} from './client/api-client.ts'
export { type Identity, loadIdentity } from './config/identity.ts'
export { type InitializeOptions, initializeFolder } from './config/initialize.ts'
export { defaultServiceJson } from './config/sections.ts'
export {
  loadServiceConfiguration,
  resolveServiceConfiguration,
  type ServiceConfiguration,
} from './config/service-configuration.ts'
export { type Daemon, type DaemonOptions, startDaemon } from './daemon/daemon.ts'
export * from './errors.ts'
export type { ApiContext, ApiOptions } from './http/api-context.ts'
export { apiRoutes, createApp } from './http/app.ts'
export { startApiServer } from './http/server.ts'
