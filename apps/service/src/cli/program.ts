import { Command, CommanderError } from 'commander'
import { serviceVersion } from '../version.ts'
import { registerAddCommand } from './add.ts'
import { addClientOptions } from './client-options.ts'
import { registerDaemonCommand } from './daemon.ts'
import { expectedErrors } from './expected-errors.ts'
import { registerHealthCommands } from './health.ts'
import { registerIdCommand } from './id.ts'
import { registerInitCommand } from './init.ts'
import type { CliIo } from './io.ts'
import { registerIpfsCommands } from './ipfs.ts'
import { registerPeersCommands } from './peers.ts'
import { registerPinCommands } from './pin.ts'
import { recoverCommand } from './recover.ts'
import { registerStateCommands } from './state.ts'
import { statusCommand } from './status.ts'
import { registerVersionCommand } from './version.ts'

/** The `pinraft` program: service and client commands in one binary. */
export function createProgram(io: CliIo): Command {
  const program = new Command()
  program
    .name('pinraft')
    .description(
      "A pinraft cluster peer (IPFS Cluster's Raft consensus in TypeScript): run it with `pinraft daemon`, talk to it with the client commands.",
    )
    .version(serviceVersion, '--version', "print this program's version")
    .option(
      '-c, --config <folder>',
      'configuration folder (default: PINRAFT_PATH, else ~/.pinraft)',
    )
    .option(
      '-l, --log-level <level>',
      'trace, debug, info, warn, error, fatal or silent (default: PINRAFT_LOG_LEVEL, else info)',
    )
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .exitOverride()
    .showHelpAfterError('(run `pinraft help <command>` for its options and examples)')
    .addHelpText(
      'after',
      `
Getting started:
  pinraft init && pinraft daemon          # a one-peer cluster, API on 127.0.0.1:9094
  pinraft pin add <cid>                   # from another terminal

Environment:
  PINRAFT_PATH                            the configuration folder
  PINRAFT_SECRET                          the cluster secret \`pinraft init\` writes
  PINRAFT_<SECTION>_<KEY>                 overrides a service.json key, e.g.
                                          PINRAFT_CLUSTER_PEERNAME, PINRAFT_CONSENSUS_RAFT_HEARTBEAT_TIMEOUT,
                                          PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS
  PINRAFT_HOST                            default of --host
  CLUSTER_CREDENTIALS, PINRAFT_BASIC_AUTH default of --basic-auth (ipfs-cluster-ctl's variable first)
  PINRAFT_LOG_LEVEL                       default of --log-level`,
    )
  addClientOptions(program)
  registerInitCommand(program, io)
  registerDaemonCommand(program, io)
  registerStateCommands(program, io)
  registerIdCommand(program, io)
  registerPeersCommands(program, io)
  registerPinCommands(program, io)
  program.addCommand(statusCommand(io))
  program.addCommand(recoverCommand(io))
  registerAddCommand(program, io)
  registerIpfsCommands(program, io)
  registerHealthCommands(program, io)
  registerVersionCommand(program, io)
  return program
}

/** The exit status of a command whose reader went away, as a process killed by SIGPIPE. */
export const OUTPUT_CLOSED_EXIT_CODE = 141

/** Runs the program on `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io)
  // Like `ipfs`, the bare program prints its help and fails: it does not start a daemon.
  if (argv.length === 0) {
    io.stderr(program.helpInformation())
    return 1
  }
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode
    }
    const failure = error instanceof Error ? error : new Error(String(error))
    // `pinraft state export | head`: the reader has what it wanted; nothing to say.
    if (failure.name === 'OutputClosedError') return OUTPUT_CLOSED_EXIT_CODE
    if (failure.name === 'ReportedError') return 1
    // `pin add`'s status follow-up: ipfs-cluster-ctl's exit codes (2: an error status, 62: a
    // --wait that timed out), after the message.
    if (failure.name === 'PinFollowUpError') {
      io.stderr(`error: ${failure.message}\n`)
      return (failure as Error & { exitCode: number }).exitCode
    }
    if (expectedErrors.has(failure.name)) {
      io.stderr(`error: ${failure.message}\n`)
    } else {
      io.stderr(`error: ${failure.stack ?? failure.message}\n`)
    }
    return 1
  }
}
