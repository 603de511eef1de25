import type { Consensus } from '@pinraft/consensus'
import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { Pin } from '@pinraft/state-pinset'
import { CID } from 'multiformats/cid'
import type { Logger } from '../logging/logger.ts'

export interface DirectPinningInit {
  readonly connector: IpfsConnector
  readonly consensus: Consensus
  readonly selfPeerId: string
  readonly logger: Logger
  /** Pins worked on at once. */
  readonly concurrency?: number
}

/**
 * Stopgap until the pin tracker: every pin applied to this peer's state (and allocated to it,
 * or to everyone) is pinned on its IPFS node right away, every unpin unpinned. Nothing is
 * queued durably, retried or reported in `/pins`: a failure is logged, and the next start pins
 * the whole state again. The pin tracker replaces this file.
 */
export function startDirectPinning(init: DirectPinningInit): () => void {
  const { connector, consensus, logger } = init
  const controller = new AbortController()
  const limit = init.concurrency ?? 8
  let running = 0
  const waiting: (() => Promise<void>)[] = []
  /** The last operation queued per CID, so that a pin and its unpin run in order. */
  const chains = new Map<string, Promise<void>>()

  const pump = (): void => {
    while (running < limit && waiting.length > 0 && !controller.signal.aborted) {
      const job = waiting.shift() as () => Promise<void>
      running++
      void job()
        .catch(() => {})
        .finally(() => {
          running--
          pump()
        })
    }
  }
  const enqueue = (cid: string, work: () => Promise<void>): void => {
    const previous = chains.get(cid) ?? Promise.resolve()
    const next = previous.then(
      () =>
        new Promise<void>((resolve) => {
          waiting.push(() => work().finally(resolve))
          pump()
        }),
    )
    chains.set(cid, next)
    void next.then(() => {
      if (chains.get(cid) === next) chains.delete(cid)
    })
  }

  const allocatedHere = (pin: Pin): boolean =>
    pin.allocations.length === 0 || pin.allocations.includes(init.selfPeerId)

  const pin = (value: Pin): void => {
    if (!allocatedHere(value)) return
    const cid = value.cid.toString()
    enqueue(cid, async () => {
      try {
        await connector.pin(value.cid, {
          mode: value.mode,
          maxDepth: value.maxDepth,
          origins: value.origins,
          signal: controller.signal,
        })
        logger.info({ cid }, 'pinned on the IPFS node')
      } catch (error) {
        if (!controller.signal.aborted)
          logger.error({ cid, error: (error as Error).message }, 'pinning on the IPFS node failed')
      }
    })
  }
  const unpin = (cid: string): void => {
    enqueue(cid, async () => {
      try {
        await connector.unpin(CID.parse(cid), { signal: controller.signal })
        logger.info({ cid }, 'unpinned from the IPFS node')
      } catch (error) {
        if (!controller.signal.aborted)
          logger.error(
            { cid, error: (error as Error).message },
            'unpinning from the IPFS node failed',
          )
      }
    })
  }
  const pinAll = async (): Promise<void> => {
    for await (const value of consensus.state().list({ signal: controller.signal })) pin(value)
  }

  const onPinAdd = (event: CustomEvent<{ pin: Pin }>): void => pin(event.detail.pin)
  const onPinRemove = (event: CustomEvent<{ cid: string }>): void => unpin(event.detail.cid)
  const onRestore = (): void => {
    void pinAll().catch(() => {})
  }
  consensus.addEventListener('pin:add', onPinAdd)
  consensus.addEventListener('pin:remove', onPinRemove)
  consensus.addEventListener('state:restore', onRestore)
  void pinAll().catch((error: unknown) => {
    if (!controller.signal.aborted)
      logger.warn({ error: (error as Error).message }, 'could not read the state to pin it')
  })
  return () => {
    controller.abort()
    waiting.length = 0
    consensus.removeEventListener('pin:add', onPinAdd)
    consensus.removeEventListener('pin:remove', onPinRemove)
    consensus.removeEventListener('state:restore', onRestore)
  }
}
