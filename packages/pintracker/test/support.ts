import { type Logger, ManualClock } from '@pinraft/raft-core'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { StatelessConfiguration } from '../src/configuration.ts'
import { defaultStatelessConfiguration } from '../src/configuration.ts'
import { StatelessTracker } from '../src/stateless-tracker.ts'
import { FakeIpfsConnector, FakeIpfsNetwork, MemoryConsensusGroup } from '../src/testing/index.ts'

export const selfId = '12D3KooWGRUVh9WZTm9cZkZ5rBdDBHuDRT9CUXvRuAH1Qpcf4Crk'
export const otherId = '12D3KooWJ9GpYFrUWQBNhsa3JxD9dBRmN3FkhF5YXdKz7rFyFpNr'

/** A start time far from 0, so that "24h ago" is a real time. */
export const start = Date.UTC(2026, 11, 1, 12, 0, 0)

export async function contentCid(text: string): Promise<CID> {
  const digest = await sha256.digest(new TextEncoder().encode(text))
  return CID.createV1(0x55, digest)
}

export interface Setup {
  clock: ManualClock
  network: FakeIpfsNetwork
  group: MemoryConsensusGroup
  connector: FakeIpfsConnector
  tracker: StatelessTracker
}

export async function setup(
  options: {
    configuration?: Partial<StatelessConfiguration>
    pinDelay?: number
    pinTimeout?: number
    clock?: ManualClock
    network?: FakeIpfsNetwork
    group?: MemoryConsensusGroup
    connector?: FakeIpfsConnector
    peerId?: string
    logger?: Logger
    reconcileBacklog?: number
  } = {},
): Promise<Setup> {
  const clock = options.clock ?? new ManualClock(start)
  const network = options.network ?? new FakeIpfsNetwork()
  const group = options.group ?? new MemoryConsensusGroup()
  const connector =
    options.connector ??
    new FakeIpfsConnector({
      clock,
      network,
      pinDelay: options.pinDelay ?? 1000,
      pinTimeout: options.pinTimeout ?? 120_000,
    })
  await connector.start()
  const tracker = new StatelessTracker(
    {
      connector,
      consensus: group.peer(options.peerId ?? selfId),
      peerId: options.peerId ?? selfId,
      peername: 'peer-one',
      clock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    },
    {
      configuration: { ...defaultStatelessConfiguration, ...options.configuration },
      stateSyncInterval: 5 * 60_000,
      pinRecoverInterval: 12 * 60_000,
      ...(options.reconcileBacklog === undefined
        ? {}
        : { reconcileBacklog: options.reconcileBacklog }),
    },
  )
  await tracker.start()
  await clock.advance(0)
  return { clock, network, group, connector, tracker }
}

/** Content another node of the network holds, so pins of it can complete. */
export async function availableContent(network: FakeIpfsNetwork, text: string): Promise<CID> {
  const cid = await contentCid(text)
  const holder = new FakeIpfsConnector({ network })
  holder.addContent(cid)
  return cid
}
