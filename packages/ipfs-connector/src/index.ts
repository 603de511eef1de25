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
