import { parseGoDuration } from '@pinraft/consensus'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { isIpfsPath } from '../client/status-client.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import { formatPin, output } from './format.ts'
import { type CliIo, writeOutput } from './io.ts'
import { followUpPin, type PinFollowUpOptions, withPinFollowUpOptions } from './pin-status.ts'
import { statusClient } from './status-output.ts'

interface PinAddOptions extends PinFollowUpOptions {
  name?: string
  replicationMin?: number
  replicationMax?: number
  mode: 'recursive' | 'direct'
  metadata: Record<string, string>
  expireIn?: string
}

function replicationFactor(value: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < -1) {
    throw new InvalidArgumentError(
      'must be an integer: -1 (everywhere), 0 (cluster default) or a number of peers',
    )
  }
  return number
}

function metadataEntry(value: string, previous: Record<string, string>): Record<string, string> {
  const separator = value.indexOf('=')
  if (separator <= 0)
    throw new InvalidArgumentError(`must be key=value, got ${JSON.stringify(value)}`)
  return { ...previous, [value.slice(0, separator)]: value.slice(separator + 1) }
}

function duration(value: string): string {
  const milliseconds = parseGoDuration(value)
  if (milliseconds === null || milliseconds < 1000) {
    throw new InvalidArgumentError(
      'must be a duration of at least 1s, such as "90s", "12h" or "1h30m"',
    )
  }
  return value
}

export function registerPinCommands(program: Command, io: CliIo): void {
  const pin = program.command('pin').description('Pin, unpin and list CIDs in the cluster.')

  withPinFollowUpOptions(
    pin
      .command('add')
      .description(
        'Pin a CID (or an /ipfs/, /ipns/ or /ipld/ path, resolved by the peer) in the cluster, through the leader, whichever peer you ask; then print its status on every peer, as ipfs-cluster-ctl does.',
      )
      .argument('<cid>', 'the CID or IPFS path to pin'),
  )
    .option('-n, --name <name>', 'a name for the pin')
    .option(
      '--replication-min <n>',
      'minimum number of peers to pin on (-1: everywhere)',
      replicationFactor,
    )
    .option(
      '--replication-max <n>',
      'maximum number of peers to pin on (-1: everywhere)',
      replicationFactor,
    )
    .addOption(
      new Option('--mode <mode>', 'recursive or direct')
        .choices(['recursive', 'direct'])
        .default('recursive'),
    )
    .option('--metadata <key=value>', 'metadata to attach (repeat for more)', metadataEntry, {})
    .option('--expire-in <duration>', 'unpin after this long (Go duration, e.g. 24h)', duration)
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft pin add bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi --name photos\n  pinraft pin add QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG --metadata owner=ana --expire-in 720h',
    )
    .action(async (cid: string, _options: PinAddOptions, command: Command) => {
      const options = command.optsWithGlobals<PinAddOptions>()
      const pinOptions = {
        name: options.name,
        mode: options.mode,
        replicationMin: options.replicationMin,
        replicationMax: options.replicationMax,
        metadata: options.metadata,
        expireIn: options.expireIn,
      }
      const pinned = isIpfsPath(cid)
        ? await (await statusClient(options, io)).pinPath(cid, pinOptions)
        : await (await apiClient(options, io)).pin(cid, pinOptions)
      await followUpPin(io, options, pinned, 'pinned')
    })

  withPinFollowUpOptions(
    pin
      .command('rm')
      .description(
        'Unpin a CID (or an IPFS path) from the cluster, then print its status on every peer.',
      )
      .argument('<cid>', 'the CID or IPFS path to unpin'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft pin rm bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    )
    .action(async (cid: string, _options: PinFollowUpOptions, command: Command) => {
      const options = command.optsWithGlobals<PinFollowUpOptions>()
      const unpinned = isIpfsPath(cid)
        ? await (await statusClient(options, io)).unpinPath(cid)
        : await (await apiClient(options, io)).unpin(cid)
      await followUpPin(io, options, unpinned, 'unpinned')
    })

  pin
    .command('ls')
    .description("List the cluster's pins (its shared pinset), or one of them.")
    .argument('[cid]', 'show only this CID')
    .addHelpText('after', '\nExamples:\n  pinraft pin ls\n  pinraft pin ls --enc json')
    .action(async (cid: string | undefined, _options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      if (cid !== undefined) {
        io.stdout(output(options.enc, await client.allocation(cid), formatPin))
        return
      }
      // Streamed: each pin is written as it arrives, at the pace of the reader.
      for await (const pinned of client.streamAllocations())
        await writeOutput(
          io,
          options.enc === 'json' ? `${JSON.stringify(pinned)}\n` : formatPin(pinned),
        )
    })
}
