import {
  isMember,
  type Logger,
  RaftNode,
  type StateMachine,
  type Transport,
} from '@pinraft/raft-core'
import { openRaftStorage, type RaftStorage } from '@pinraft/raft-level'
import type { ApplyResult } from '@pinraft/state-pinset'
import { backupAndClean, listBackups } from '../backups.ts'
import { type RaftConfiguration, raftTimings } from '../configuration/configuration.ts'
import { RemovedFromClusterError } from '../errors.ts'
import { membersOf } from '../membership/members.ts'
import { type DamagedSnapshot, newestDamagedSnapshot } from './damaged-snapshot.ts'

export interface OpenRaftInit {
  readonly peerId: string
  readonly configuration: RaftConfiguration
  readonly staging: boolean
  readonly newCluster: boolean
  readonly logger: Logger
  readonly transport: Transport
  readonly stateMachine: StateMachine<ApplyResult>
  /**
   * Called with the node before it starts (its events may fire during `start`): `startedEmpty`
   * says this peer had no Raft state at all.
   */
  attach(node: RaftNode<ApplyResult>, startedEmpty: boolean): void
  /** Called when the node attached is stopped again (start failed, or the peer was removed). */
  detach(): void
}

export interface OpenedRaft {
  readonly node: RaftNode<ApplyResult>
  readonly storage: RaftStorage
  /** This peer started with no Raft state at all (a new disk, `state cleanup`, a wipe). */
  readonly startedEmpty: boolean
  /** A newer snapshot than the one restored was damaged: ready only once past its index. */
  readonly damagedSnapshot: DamagedSnapshot | null
}

/**
 * Opens the stores and starts a RaftNode on them, after the checks that keep a peer that left
 * its cluster from silently starting a new one (issue 17). Returns undefined when the state was
 * moved aside and must be opened again (`newCluster`, `afterReset` false).
 */
export async function openRaft(
  init: OpenRaftInit,
  afterReset: boolean,
): Promise<OpenedRaft | undefined> {
  const { configuration, logger, peerId } = init
  const storage = await openRaftStorage({ directory: configuration.dataFolder, logger })
  const { logStore, stableStore, snapshotStore } = storage
  const node = new RaftNode<ApplyResult>(
    {
      logStore,
      stableStore,
      snapshotStore,
      transport: init.transport,
      stateMachine: init.stateMachine,
      logger,
    },
    {
      ...raftTimings(configuration),
      maxEntriesPerMessage: configuration.maxAppendEntries,
      snapshotThreshold: configuration.snapshotThreshold,
      trailingLogs: configuration.trailingLogs,
      // hashicorp/raft's CommitTimeout, as IPFS Cluster configures it: the leader tells a
      // follower a new commit index with its next append, or on its own after this long. Under
      // load the next append comes first, and a round costs one message each way per follower
      // instead of two.
      commitNotificationDelay: configuration.commitTimeout,
    },
  )
  let startedEmpty: boolean
  let damagedSnapshot: DamagedSnapshot | null
  try {
    startedEmpty = !(await node.hasState())
    if (!init.staging && startedEmpty) {
      await bootstrapNewCluster(init, node)
    } else if (!init.staging && configuration.initPeerset.length > 0) {
      logger.info('existing Raft state found: init_peerset is ignored')
    }
    damagedSnapshot = newestDamagedSnapshot(await snapshotStore.inspect())
    if (damagedSnapshot !== null) logDamagedSnapshot(logger, damagedSnapshot)
    init.attach(node, startedEmpty)
    await node.start()
  } catch (error) {
    init.detach()
    await node.stop().catch(() => {})
    await storage.close().catch(() => {})
    throw error
  }
  const latest = node.configuration
  if (!init.staging && !startedEmpty && !isMember(latest, peerId)) {
    init.detach()
    await node.stop()
    await storage.close()
    const members = membersOf(latest)
    if (!init.newCluster || afterReset) {
      throw new RemovedFromClusterError(
        [
          `this peer (${peerId}) is not in the peerset its Raft state ends with (${members.join(', ') || 'none'}): it was removed from its cluster (\`pinraft peers rm\`, --leave), so it must not vote or bootstrap a new cluster on its own.`,
          'To rejoin the cluster: `pinraft daemon --bootstrap <multiaddress of a running member>` (its state is backed up and it catches up from the leader).',
          'To start a new cluster from nothing on purpose, ask for a new cluster explicitly (this state is moved to a backup first).',
        ].join('\n'),
      )
    }
    const backup = await backupAndClean(
      configuration.dataFolder,
      Math.max(1, configuration.backupsRotate),
    )
    logger.warn(
      'this peer was removed from its cluster: starting a new cluster as asked; the old state was backed up',
      { backup, peers: members },
    )
    return undefined
  }
  return { node, storage, startedEmpty, damagedSnapshot }
}

/** A peer with no state bootstraps `init_peerset` plus itself, unless backups say it left one. */
async function bootstrapNewCluster(init: OpenRaftInit, node: RaftNode<ApplyResult>): Promise<void> {
  const { configuration, logger } = init
  const backups = await listBackups(configuration.dataFolder)
  if (backups.length > 0 && !init.newCluster) {
    throw new RemovedFromClusterError(
      [
        `this peer has no Raft state in ${configuration.dataFolder}, but backups of earlier state are there (${backups.join(', ')}): it was removed from its cluster (\`pinraft peers rm\`, --leave) or its state was cleaned (\`pinraft state cleanup\`).`,
        'Starting now would silently begin a new one-peer cluster with 0 pins, so it does not.',
        'To rejoin the cluster: `pinraft daemon --bootstrap <multiaddress of a running member>` (`pinraft id` on that member prints it).',
        'To start a new cluster from nothing on purpose, ask for a new cluster explicitly (the backups are kept).',
      ].join('\n'),
    )
  }
  if (backups.length > 0) {
    logger.warn('starting a new cluster as asked, although backups of earlier state exist', {
      backups,
    })
  }
  const voters = [...new Set([...configuration.initPeerset, init.peerId])].sort()
  await node.bootstrap({ voters, nonVoters: [], staging: [] })
  logger.info('bootstrapped a new cluster', { peers: voters })
}

/** Issue 13 §3: a damaged newest snapshot means an older pinset for now; say so loudly. */
function logDamagedSnapshot(logger: Logger, damaged: DamagedSnapshot): void {
  logger.error(
    `the newest snapshot ${damaged.folder} (index ${damaged.index}) is damaged (${damaged.reason}): this peer starts from ${damaged.startsFrom === 0 ? 'its log alone' : `the older snapshot at index ${damaged.startsFrom}`} and serves an older pinset until it has caught up with a leader; it is not ready before then`,
    { folder: damaged.folder, index: damaged.index, startsFrom: damaged.startsFrom },
  )
}
