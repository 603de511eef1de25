export type { FakeIpfsConnectorInit } from './fake-ipfs-connector.ts'
export { FakeIpfsConnector, FakeIpfsNetwork } from './fake-ipfs-connector.ts'
export { MemoryConsensus, MemoryConsensusGroup } from './memory-consensus.ts'
