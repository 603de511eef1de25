import { peerIdFromString } from '@libp2p/peer-id'
import { parseGoDuration } from '@pinraft/consensus'
import { parseCid } from '@pinraft/state-pinset'
import { type Command, InvalidArgumentError, Option } from 'commander'
import type { PinOptions } from '../client/api-client.ts'
import { isIpfsPath } from '../client/status-client.ts'
import { UsageError } from '../errors.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import { formatPin, output } from './format.ts'
import { type CliIo, writeOutput } from './io.ts'
import { followUpPin, type PinFollowUpOptions, withPinFollowUpOptions } from './pin-status.ts'
import { statusClient } from './status-output.ts'

interface PinAddOptions extends PinFollowUpOptions {
  name?: string
  replication?: number
  replicationMin?: number
  replicationMax?: number
  rmin?: number
  rmax?: number
  allocations?: string
  allocs?: string
  mode: 'recursive' | 'direct'
  metadata: Record<string, string>
  expireIn?: string
}

interface PinUpdateOptions extends PinFollowUpOptions {
  name?: string
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

/** ctl's `--allocations`: peer IDs separated by commas, every one of them a peer ID. */
function allocations(value: string): string[] {
  const peers = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  const bad = peers.filter((peer) => {
    try {
      peerIdFromString(peer)
      return false
    } catch {
      return true
    }
  })
  if (bad.length > 0)
    throw new UsageError(
      `decoding allocations: some peer IDs could not be decoded (${bad.join(', ')}); give cluster peer IDs separated by commas, as \`pinraft peers ls\` lists them`,
    )
  return peers
}

/**
 * The factors of `pin add` as ctl reads them: `--replication`/`-r` (both, when not 0) over
 * `--replication-min`/`--rmin` and `--replication-max`/`--rmax`.
 */
function replicationOf(
  options: PinAddOptions,
): Pick<PinOptions, 'replicationMin' | 'replicationMax'> {
  const replication = options.replication
  if (replication !== undefined && replication !== 0)
    return { replicationMin: replication, replicationMax: replication }
  const min = options.replicationMin ?? options.rmin
  const max = options.replicationMax ?? options.rmax
  return {
    ...(min === undefined ? {} : { replicationMin: min }),
    ...(max === undefined ? {} : { replicationMax: max }),
  }
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
      '-r, --replication <n>',
      'both factors at once (overrides --rmin and --rmax; -1: everywhere, 0: the default)',
      replicationFactor,
    )
    .option(
      '--replication-min <n>',
      'minimum number of peers to pin on (-1: everywhere)',
      replicationFactor,
    )
    .option('--rmin <n>', 'same as --replication-min (ipfs-cluster-ctl)', replicationFactor)
    .option(
      '--replication-max <n>',
      'maximum number of peers to pin on (-1: everywhere)',
      replicationFactor,
    )
    .option('--rmax <n>', 'same as --replication-max (ipfs-cluster-ctl)', replicationFactor)
    .option(
      '--allocations <peers>',
      'peer IDs (comma-separated) to pin on first; the replication factors still apply',
    )
    .addOption(new Option('--allocs <peers>', 'same as --allocations').hideHelp())
    .addOption(
      new Option('--mode <mode>', 'recursive or direct')
        .choices(['recursive', 'direct'])
        .default('recursive'),
    )
    .option('--metadata <key=value>', 'metadata to attach (repeat for more)', metadataEntry, {})
    .option('--expire-in <duration>', 'unpin after this long (Go duration, e.g. 24h)', duration)
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft pin add bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi --name photos\n  pinraft pin add QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG --metadata owner=ana --expire-in 720h\n  pinraft pin add QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG -r 2 --allocations 12D3KooW…',
    )
    .action(async (cid: string, _options: PinAddOptions, command: Command) => {
      const options = command.optsWithGlobals<PinAddOptions>()
      const userAllocations = options.allocations ?? options.allocs
      const pinOptions: PinOptions = {
        name: options.name,
        mode: options.mode,
        ...replicationOf(options),
        metadata: options.metadata,
        expireIn: options.expireIn,
        ...(userAllocations === undefined ? {} : { userAllocations: allocations(userAllocations) }),
      }
      const pinned = isIpfsPath(cid)
        ? await (await statusClient(options, io)).pinPath(cid, pinOptions)
        : await (await apiClient(options, io)).pin(cid, pinOptions)
      await followUpPin(io, options, pinned, 'pinned')
    })

  withPinFollowUpOptions(
    pin
      .command('update')
      .description(
        "Pin a new CID (or IPFS path) with the options and allocations of an existing pin, as ipfs-cluster-ctl's pin update; the peers pin it with IPFS's pin update, which is fast when the two DAGs share blocks. Then print its status on every peer.",
      )
      .argument('<from>', 'the CID of the existing pin')
      .argument('<to>', 'the new CID or IPFS path'),
  )
    .option('-n, --name <name>', "a name for the new pin (default: the existing pin's)")
    .option('--expire-in <duration>', 'unpin the new pin after this long (Go duration)', duration)
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft pin update QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi --name site-v2',
    )
    .action(async (from: string, to: string, _options: PinUpdateOptions, command: Command) => {
      const options = command.optsWithGlobals<PinUpdateOptions>()
      let fromCid: string
      try {
        fromCid = parseCid(from).toString()
      } catch (error) {
        throw new UsageError(`parsing from Cid: ${(error as Error).message}`)
      }
      const pinOptions: PinOptions = {
        pinUpdate: fromCid,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.expireIn === undefined ? {} : { expireIn: options.expireIn }),
      }
      const pinned = isIpfsPath(to)
        ? await (await statusClient(options, io)).pinPath(to, pinOptions)
        : await (await apiClient(options, io)).pin(to, pinOptions)
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
