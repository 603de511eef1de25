import { parseStatusFilter } from '@pinraft/pintracker'
import { parseCid } from '@pinraft/state-pinset'
import { Command } from 'commander'
import { UsageError } from '../errors.ts'
import type { ClientOptions } from './client-options.ts'
import type { CliIo } from './io.ts'
import { statusClient, statusLine } from './status-output.ts'

interface StatusOptions extends ClientOptions {
  local?: boolean
  filter?: string
}

function checkCids(cids: readonly string[]): void {
  for (const cid of cids) {
    try {
      parseCid(cid)
    } catch (error) {
      throw new UsageError(`parsing cid: ${(error as Error).message}`)
    }
  }
}

/**
 * `pinraft status [cid...] [--local] [--filter …]` (ipfs-cluster-ctl status): one CID, several,
 * or every pin, as each peer reports it. Register with `program.addCommand(statusCommand(io))`.
 */
export function statusCommand(io: CliIo): Command {
  const command = new Command('status')
    .description(
      'Show how each peer stands with the CIDs of the pinset: pinned, pinning, queued, in error… (all pins without a CID).',
    )
    .argument('[cid...]', 'the CIDs to show (default: every pin)')
    .option('--local', 'ask only the peer behind the API, not every peer')
    .option(
      '--filter <statuses>',
      'only pins with a peer in one of these statuses (comma-separated): pinned, pinning, pin_queued, pin_error, unpinning, unpin_queued, unpin_error, remote, unpinned, unexpectedly_unpinned, cluster_error, sharded, error, queued',
    )
  command
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft status\n  pinraft status bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\n  pinraft status --filter pin_error,unexpectedly_unpinned\n  pinraft status --local --enc json',
    )
    .action(async (cids: string[], _options: StatusOptions, self: Command) => {
      const options = self.optsWithGlobals<StatusOptions>()
      checkCids(cids)
      if (options.filter !== undefined) {
        if (cids.length > 0)
          throw new UsageError('--filter applies to the status of every pin: give no CID with it')
        try {
          parseStatusFilter(options.filter)
        } catch (error) {
          throw new UsageError(`parsing filter flag: ${(error as Error).message}`)
        }
      }
      const client = await statusClient(options, io)
      const local = options.local === true
      if (cids.length === 1) {
        io.stdout(statusLine(options.enc, await client.status(cids[0]!, { local })))
        return
      }
      const stream =
        cids.length > 1
          ? client.statusCids(cids, { local })
          : client.statusAll({ local, filter: options.filter })
      for await (const global of stream) io.stdout(statusLine(options.enc, global))
    })
  return command
}
