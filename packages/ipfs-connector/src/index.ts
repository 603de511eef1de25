export type { AddOptions } from './adder/add-options.ts'
export type { AddEntry, AddedOutput, BlockWriter } from './adder/added-output.ts'
export { addCar } from './adder/car-adder.ts'
export { addUnixfs } from './adder/unixfs-adder.ts'
export { catFile } from './cat.ts'
export * from './configuration/index.ts'
export {
  createEmbeddedConnector,
  type EmbeddedConnectorInit,
  EmbeddedIpfsConnector,
} from './embedded/embedded-connector.ts'
export * from './errors.ts'
export type {
  AbortOptions,
  IpfsBlockPutOptions,
  IpfsConnector,
  IpfsId,
  IpfsPinEntry,
  IpfsPinLsOptions,
  IpfsPinOptions,
  IpfsPinProgress,
  IpfsPinType,
  IpfsRepoGcEntry,
  IpfsRepoStat,
  PinMode,
} from './ipfs-connector.ts'
export {
  createKuboConnector,
  type KuboConnectorInit,
  KuboIpfsConnector,
} from './kubo/kubo-connector.ts'
