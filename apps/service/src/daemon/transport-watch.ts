import type { TypedEventTarget } from '@libp2p/interface'
import type { RaftTransportEvents } from '@pinraft/raft-libp2p'
import type { Logger } from '../logging/logger.ts'

/**
 * Says when Raft cannot reach a peer: the transport drops the messages for it silently. At most
 * once per peer per `intervalMilliseconds` (an unreachable peer drops a message per heartbeat).
 */
export function watchTransport(
  transport: TypedEventTarget<RaftTransportEvents>,
  logger: Logger,
  options: { intervalMilliseconds?: number; now?: () => number; signal?: AbortSignal } = {},
): void {
  const interval = options.intervalMilliseconds ?? 60_000
  const now = options.now ?? (() => Date.now())
  const logged = new Map<string, number>()
  transport.addEventListener(
    'message:dropped',
    (event) => {
      const { peer, direction, reason, count } = event.detail
      if (direction !== 'outbound' || reason !== 'unreachable') return
      const at = now()
      if (at - (logged.get(peer) ?? Number.NEGATIVE_INFINITY) < interval) return
      logged.set(peer, at)
      logger.warn(
        { peer, dropped: count },
        `peer ${peer} is unreachable: Raft messages to it are dropped. Check that it runs, that this machine can reach its address (\`pinraft peers ls\`), and that both have the same cluster.secret (logged once a minute per peer)`,
      )
    },
    options.signal === undefined ? {} : { signal: options.signal },
  )
}
