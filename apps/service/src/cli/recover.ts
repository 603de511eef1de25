import { parseCid } from '@pinraft/state-pinset'
import { Command } from 'commander'
import { UsageError } from '../errors.ts'
import type { ClientOptions } from './client-options.ts'
import type { CliIo } from './io.ts'
import { statusClient, statusLine } from './status-output.ts'

interface RecoverOptions extends ClientOptions {
  local?: boolean
}

/**
 * `pinraft recover [cid] [--local]` (ipfs-cluster-ctl recover): retries pins and unpins in
 * error (and pins IPFS lost) on every peer, or only the one behind the API. Register with
 * `program.addCommand(recoverCommand(io))`.
 */
export function recoverCommand(io: CliIo): Command {
  const command = new Command('recover')
    .description(
      'Retry what failed: pins in pin_error or unexpectedly_unpinned, unpins in unpin_error (every pin without a CID).',
    )
    .argument('[cid]', 'the CID to recover (default: every pin that needs it)')
    .option('--local', 'recover only on the peer behind the API, not on every peer')
  command
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft recover bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\n  pinraft recover --local',
    )
    .action(async (cid: string | undefined, _options: RecoverOptions, self: Command) => {
      const options = self.optsWithGlobals<RecoverOptions>()
      if (cid !== undefined) {
        try {
          parseCid(cid)
        } catch (error) {
          throw new UsageError(`parsing cid: ${(error as Error).message}`)
        }
      }
      const client = await statusClient(options, io)
      const local = options.local === true
      if (cid !== undefined) {
        io.stdout(statusLine(options.enc, await client.recover(cid, { local })))
        return
      }
      for await (const global of client.recoverAll({ local })) {
        io.stdout(statusLine(options.enc, global))
      }
    })
  return command
}
