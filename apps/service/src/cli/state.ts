import { constants, createReadStream } from 'node:fs'
import { access, open, rename } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  cleanupOfflineState,
  exportOfflineState,
  importOfflinePinset,
  importOfflineState,
} from '@pinraft/consensus'
import { importState, type Pin, type PinInput, pinToClusterJson } from '@pinraft/state-pinset'
import { type Command, InvalidArgumentError } from 'commander'
import { loadIdentity } from '../config/identity.ts'
import { configurationFolder } from '../config/paths.ts'
import {
  loadServiceConfiguration,
  type ServiceConfiguration,
} from '../config/service-configuration.ts'
import { lockFolder } from '../daemon/lock-file.ts'
import { UsageError } from '../errors.ts'
import type { GlobalOptions } from './global-options.ts'
import { type CliIo, confirm, writeOutput } from './io.ts'
import { createProgress } from './progress.ts'

async function withStoppedPeer<T>(
  command: Command,
  io: CliIo,
  what: string,
  run: (folder: string, configuration: ServiceConfiguration) => Promise<T>,
): Promise<T> {
  const folder = configurationFolder(
    command.optsWithGlobals<GlobalOptions>().config,
    io.environment,
  )
  // Read first: a folder that was never initialized says so, before any lock is attempted.
  const configuration = await loadServiceConfiguration(folder, io.environment)
  const lock = await lockFolder(folder, what)
  try {
    return await run(folder, configuration)
  } finally {
    await lock.release()
  }
}

interface ImportOptions {
  force: boolean
  replicationMin?: number
  replicationMax?: number
  allocations?: string[]
}

function positiveFactor(value: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError("must be a whole number of peers (0 keeps each pin's own)")
  return number
}

function peerList(value: string): string[] {
  const peers = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  for (const peer of peers) {
    try {
      peerIdFromString(peer)
    } catch {
      throw new InvalidArgumentError(`${JSON.stringify(peer)} is not a peer ID`)
    }
  }
  return peers
}

function hasImportOverrides(options: ImportOptions): boolean {
  return (
    (options.replicationMin ?? 0) > 0 ||
    (options.replicationMax ?? 0) > 0 ||
    (options.allocations ?? []).length > 0
  )
}

/** 1.x's import options: a factor above 0 and a non-empty allocation list replace each pin's. */
function withImportOverrides(pin: Pin, options: ImportOptions): PinInput {
  const allocations = options.allocations ?? []
  return {
    ...pin,
    replicationFactorMin:
      (options.replicationMin ?? 0) > 0 ? options.replicationMin! : pin.replicationFactorMin,
    replicationFactorMax:
      (options.replicationMax ?? 0) > 0 ? options.replicationMax! : pin.replicationFactorMax,
    allocations: allocations.length > 0 ? allocations : pin.allocations,
  }
}

export function registerStateCommands(program: Command, io: CliIo): void {
  const state = program
    .command('state')
    .description(
      "Manage this peer's Raft state offline (the daemon must be stopped): export it, import it, or clean it up. Files use IPFS Cluster's `state export` format (one pin JSON per line).",
    )

  state
    .command('export')
    .description("Write this peer's pinset, in IPFS Cluster's JSON form (one pin per line).")
    .option('-f, --file <path>', 'write to this file instead of standard output')
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft state export --file pins.json\n  pinraft state export | wc -l',
    )
    .action(async (options: { file?: string }, command: Command) => {
      await withStoppedPeer(command, io, 'export the state', async (_folder, configuration) => {
        if (options.file === undefined) {
          // Batched, and waiting whenever the reader is behind: a pipe gets every line.
          let batch = ''
          for await (const pin of exportOfflineState(configuration.raft)) {
            batch += `${pinToClusterJson(pin)}\n`
            if (batch.length >= 64 * 1024) {
              await writeOutput(io, batch)
              batch = ''
            }
          }
          if (batch !== '') await writeOutput(io, batch)
          return
        }
        // Written aside and renamed, so an interrupted export never leaves half a file.
        const temporary = `${options.file}.tmp`
        const handle = await open(temporary, 'w', 0o600)
        let count = 0
        try {
          for await (const pin of exportOfflineState(configuration.raft)) {
            await handle.write(`${pinToClusterJson(pin)}\n`)
            count++
          }
          await handle.sync()
        } finally {
          await handle.close()
        }
        await rename(temporary, options.file)
        io.stderr(`exported ${count} pin${count === 1 ? '' : 's'} to ${options.file}\n`)
      })
    })

  state
    .command('import')
    .description(
      "Replace this peer's pinset with the pins of a file (or standard input). The file is validated whole first; the current Raft state is backed up. Every peer of the cluster must import the same file while all of them are stopped.",
    )
    .argument('[file]', 'the file to import (standard input when omitted or "-")')
    .option('-f, --force', 'do not ask for confirmation', false)
    .option(
      '--rmin, --replication-min <n>',
      "give every imported pin this replication_factor_min (0: keep each pin's)",
      positiveFactor,
    )
    .option(
      '--rmax, --replication-max <n>',
      "give every imported pin this replication_factor_max (0: keep each pin's)",
      positiveFactor,
    )
    .option(
      '--allocs, --allocations <peer-ids>',
      'give every imported pin these allocations (comma-separated peer IDs)',
      peerList,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft state import pins.json\n  pinraft state import --force < pins.json\n  pinraft state import --replication-min 2 --replication-max 3 pins.json',
    )
    .action(async (file: string | undefined, options: ImportOptions, command: Command) => {
      const fromStdin = file === undefined || file === '-'
      if (fromStdin && !options.force) {
        throw new UsageError(
          'reading the pins from standard input leaves no way to confirm: pass --force',
        )
      }
      if (!fromStdin) {
        try {
          await access(file, constants.R_OK)
        } catch (error) {
          throw new UsageError(
            `cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : (error as Error).message}; give the path of a file written by \`pinraft state export\``,
          )
        }
      }
      await withStoppedPeer(command, io, 'import the state', async (folder, configuration) => {
        const identity = await loadIdentity(folder)
        const source = fromStdin ? io.stdin : createReadStream(file)
        const pins = await importState(source as AsyncIterable<Uint8Array>)
        if (
          !options.force &&
          !(await confirm(
            io,
            `This replaces the pinset of this peer with the ${pins.count()} pins of ${file}. The current Raft state is backed up first. Every peer of the cluster must import the same file while all are stopped. Continue?`,
          ))
        ) {
          io.stderr('nothing was changed\n')
          return
        }
        const peers = [identity.peerId]
        if (!hasImportOverrides(options)) {
          // The pinset read from the file is the one written: a second copy of a large pinset
          // would double the import's time and memory.
          const count = await importOfflinePinset(configuration.raft, pins, { peers })
          io.stderr(
            `imported ${count} pin${count === 1 ? '' : 's'}; start the peer with \`pinraft daemon\`\n`,
          )
          return
        }
        const progress = createProgress(io, 'importing pins', pins.count())
        async function* overridden(): AsyncGenerator<PinInput> {
          let done = 0
          for await (const pin of pins.list()) {
            yield withImportOverrides(pin, options)
            progress.update(++done)
          }
          progress.finish()
        }
        const count = await importOfflineState(configuration.raft, overridden(), { peers })
        io.stderr(
          `imported ${count} pin${count === 1 ? '' : 's'}; start the peer with \`pinraft daemon\`\n`,
        )
      })
    })

  state
    .command('cleanup')
    .description(
      "Move this peer's Raft state to a rotated backup (consensus.raft.backups_rotate are kept), so that it starts empty: for a peer that will join a cluster again, or a fresh start.",
    )
    .option('-f, --force', 'do not ask for confirmation', false)
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft state cleanup\n  pinraft --config ./peer2 state cleanup --force',
    )
    .action(async (options: { force: boolean }, command: Command) => {
      await withStoppedPeer(command, io, 'clean up the state', async (_folder, configuration) => {
        if (
          !options.force &&
          !(await confirm(
            io,
            `This moves the Raft state of this peer (${configuration.raft.dataFolder}) to a backup; the peer starts empty next time. Continue?`,
          ))
        ) {
          io.stderr('nothing was changed\n')
          return
        }
        const backup = await cleanupOfflineState(configuration.raft)
        io.stderr(
          backup === null
            ? 'there was no Raft state to clean up\n'
            : `the Raft state was moved to ${backup}\n`,
        )
      })
    })
}
