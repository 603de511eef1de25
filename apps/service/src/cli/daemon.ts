import { access } from 'node:fs/promises'
import { parseGoDuration } from '@pinraft/consensus'
import type { Command } from 'commander'
import { initializeFolder } from '../config/initialize.ts'
import { configurationFolder, servicePath } from '../config/paths.ts'
import type { Daemon } from '../daemon/daemon.ts'
import { handleShutdownSignals } from '../daemon/signals.ts'
import { ReportedError, UsageError } from '../errors.ts'
import { createRootLogger, type Logger } from '../logging/logger.ts'
import { expectedErrors } from './expected-errors.ts'
import { type GlobalOptions, logLevel } from './global-options.ts'
import { splitList } from './init.ts'
import type { CliIo } from './io.ts'

interface DaemonCommandOptions {
  bootstrap: string[]
  leave: boolean
  newCluster: boolean
  joinTimeout: string
  init: boolean
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

/**
 * A daemon failure goes to its log, so that a JSON log stream stays JSON (no plain `error:` line
 * in it); the CLI then prints nothing more. With logging silenced it is printed as usual.
 */
function reported(error: unknown, logger: Logger): unknown {
  if (logger.level === 'silent' || !(error instanceof Error)) return error
  if (expectedErrors.has(error.name)) logger.error({ error: error.name }, error.message)
  else logger.error({ err: error }, `the daemon failed: ${error.message}`)
  return new ReportedError(error.message, { cause: error })
}

export function registerDaemonCommand(program: Command, io: CliIo): void {
  program
    .command('daemon')
    .description(
      'Run the peer: libp2p, Raft consensus and the HTTP API. Without --bootstrap it starts from its Raft state (or bootstraps a new cluster with consensus.raft.init_peerset). It never writes its configuration. Ctrl-C (SIGINT) or SIGTERM stops it cleanly; a second signal forces it.',
    )
    .option(
      '-j, --bootstrap <multiaddrs>',
      "join the cluster of a running peer (comma-separated multiaddresses ending in /p2p/<id>): backs up and cleans this peer's Raft state, starts it as a staging peer and asks a bootstrap peer to add it",
      splitList,
      [],
    )
    .option(
      '--leave',
      'leave the cluster when shutting down (consensus.raft.leave_on_shutdown)',
      false,
    )
    .option(
      '--new-cluster',
      'start a new cluster of this peer alone even though its Raft backups show it was a member of one (it was removed, left, or cleaned up); without it such a peer refuses to start and says how to rejoin',
      false,
    )
    .option(
      '--join-timeout <duration>',
      'with --bootstrap: how long joining and catching up may take',
      '1m',
    )
    .option(
      '--init',
      'initialize the configuration folder first if it has no service.json (used by `pnpm start`)',
      false,
    )
    .addHelpText(
      'after',
      `
Examples:
  pinraft daemon                                              # start from this peer's state
  pinraft daemon --bootstrap /ip4/192.0.2.1/tcp/9096/p2p/12D3KooW...
  PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS=/ip4/127.0.0.1/tcp/9194 pinraft daemon`,
    )
    .action(async (options: DaemonCommandOptions, command: Command) => {
      const global = command.optsWithGlobals<GlobalOptions>()
      const folder = configurationFolder(global.config, io.environment)
      const logger = await createRootLogger(logLevel(global, io.environment))
      const joinTimeout = parseGoDuration(options.joinTimeout)
      if (joinTimeout === null || joinTimeout <= 0) {
        throw new UsageError(
          `--join-timeout must be a duration such as "30s" or "2m", got ${JSON.stringify(options.joinTimeout)}`,
        )
      }
      // Handlers first: a signal during the start (a long join) is not lost; it stops the peer
      // as soon as there is one to stop.
      let daemon: Daemon | undefined
      let stopRequested = false
      const removeHandlers = handleShutdownSignals(async () => {
        stopRequested = true
        await daemon?.stop()
      }, logger)
      try {
        if (options.init && !(await exists(servicePath(folder)))) {
          const result = await initializeFolder({
            folder,
            peers: [],
            force: false,
            secret: io.environment.PINRAFT_SECRET,
          })
          logger.info(
            { folder, peerId: result.peerId },
            `first start: initialized the configuration folder ${folder}`,
          )
        }
        // Loaded here, not at the top: the daemon brings Helia and libp2p (about 250 packages),
        // which every other command would load and compile for nothing.
        const { startDaemon } = await import('../daemon/daemon.ts')
        daemon = await startDaemon({
          folder,
          bootstrap: options.bootstrap,
          leave: options.leave,
          newCluster: options.newCluster,
          joinTimeout,
          environment: io.environment,
          logger,
        })
      } catch (error) {
        removeHandlers()
        throw reported(error, logger)
      }
      if (stopRequested) void daemon.stop()
      try {
        await daemon.stopped
      } catch (error) {
        throw reported(error, logger)
      } finally {
        removeHandlers()
      }
    })
}
