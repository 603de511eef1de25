export type { MessageFilter } from './memory-transport.ts'
export { MemoryNetwork, MemoryTransport } from './memory-transport.ts'
export type { Transport, TransportHandler } from './transport.ts'
