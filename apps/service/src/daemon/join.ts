import type { Consensus } from '@pinraft/consensus'
import { type PeerMultiaddr, parsePeerMultiaddr } from '@pinraft/pstoremgr'
import { JoinError, UsageError } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'
import type { ServiceLibp2p } from './libp2p-node.ts'
import { requestJoin } from './service-protocol.ts'

/** What joining needs to know of the daemon's options. */
export interface JoinOptions {
  /** How long joining may take, added and caught up. */
  readonly joinTimeout: number
  readonly logger: Logger
}

/** `--bootstrap`'s multiaddresses, each naming its peer; a `UsageError` saying what is wrong otherwise. */
export function parseBootstrap(addresses: readonly string[]): PeerMultiaddr[] {
  return addresses.map((address) => {
    let parsed: PeerMultiaddr
    try {
      parsed = parsePeerMultiaddr(address, { source: '--bootstrap' })
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    if (parsed.peerId === undefined) {
      throw new UsageError(
        `--bootstrap ${address} names no peer: give the full multiaddress of a running peer, ending in /p2p/<peer-id> (\`pinraft id\` on that peer prints it)`,
      )
    }
    return parsed
  })
}

function joinFailure(
  reason: string,
  peerId: string,
  bootstrap: readonly string[],
  backup: string | null,
): JoinError {
  return new JoinError(
    [
      `could not join the cluster: ${reason}`,
      'To fix it:',
      `  - check that a peer is running at ${bootstrap.join(', ')} and that this machine can reach it (firewall, address, port);`,
      '  - check that both peers have the same cluster.secret in service.json (peers with different secrets cannot connect at all);',
      '  - check that the cluster has a leader (`pinraft peers ls` on that peer).',
      `Then run \`pinraft daemon --bootstrap ${bootstrap.join(',')}\` again.`,
      `If this peer (${peerId}) was added but could not catch up, start it again with --bootstrap: the leader re-adds a member without Raft state as staging and sends it a snapshot.`,
      ...(backup === null ? [] : [`The previous Raft state of this peer was moved to ${backup}.`]),
    ].join('\n'),
  )
}

/** Asks to join, waiting its turn while the leader is adding another peer (one at a time). */
async function requestJoinInTurn(
  libp2p: ServiceLibp2p,
  target: PeerMultiaddr['multiaddr'],
  consensus: Consensus,
  deadline: AbortSignal,
  logger: Logger,
): Promise<string[]> {
  for (;;) {
    try {
      return await requestJoin(libp2p, target, {
        signal: deadline,
        freshState: consensus.status().freshState,
      })
    } catch (error) {
      if ((error as Error).name !== 'JoinInProgressError' || deadline.aborted) throw error
      logger.info({ reason: (error as Error).message }, 'another peer is joining: waiting my turn')
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}

/**
 * Joins the cluster of one of `bootstrap` (`daemon --bootstrap`): asks each in turn to add this
 * peer, connects to the members, then waits until this peer is a voter caught up with the leader.
 * A `JoinError` saying what to check when no peer added it, or it did not catch up in time.
 */
export async function join(
  libp2p: ServiceLibp2p,
  consensus: Consensus,
  bootstrap: readonly PeerMultiaddr[],
  options: JoinOptions,
  backup: string | null,
  peerId: string,
): Promise<void> {
  const { logger } = options
  const deadline = AbortSignal.timeout(options.joinTimeout)
  const texts = bootstrap.map((entry) => entry.multiaddr.toString())
  const reasons: string[] = []
  let added = false
  for (const entry of bootstrap) {
    try {
      logger.info({ bootstrap: entry.multiaddr.toString() }, 'asking to join the cluster')
      const members = await requestJoinInTurn(libp2p, entry.multiaddr, consensus, deadline, logger)
      added = true
      // Connecting to every member lets each learn this peer's addresses (identify), so that
      // any of them can reach it once it leads.
      const result = await libp2p.services.pstore.importPeers(members, { connect: true })
      for (const failure of result.failures) {
        logger.warn(
          { address: failure.multiaddr, error: failure.error.message },
          'could not connect to a member',
        )
      }
      break
    } catch (error) {
      reasons.push(`${entry.multiaddr.toString()}: ${(error as Error).message}`)
      if (deadline.aborted) break
    }
  }
  if (!added) {
    throw joinFailure(
      `no bootstrap peer added this peer (${reasons.join('; ') || 'timed out'})`,
      peerId,
      texts,
      backup,
    )
  }
  logger.info('added to the cluster; catching up with the leader')
  // A large snapshot or log takes a while: say how far it got at once, then every few seconds.
  const report = () => {
    const status = consensus.status()
    logger.info(
      {
        appliedIndex: status.appliedIndex,
        commitIndex: status.commitIndex,
        pins: status.pins,
        leader: status.leader,
      },
      `catching up with the leader: applied ${status.appliedIndex} of ${status.commitIndex} (${status.pins} pins so far)`,
    )
  }
  report()
  const progress = setInterval(report, 5000)
  try {
    await consensus.ready({ signal: deadline })
  } catch {
    throw joinFailure(
      `this peer was added but did not become a voter caught up with the leader within ${options.joinTimeout / 1000}s`,
      peerId,
      texts,
      backup,
    )
  } finally {
    clearInterval(progress)
  }
}
