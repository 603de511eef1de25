import type { Command } from 'commander'
import { apiClient, type ClientOptions } from './client-options.ts'
import { formatId, output } from './format.ts'
import type { CliIo } from './io.ts'

export function registerIdCommand(program: Command, io: CliIo): void {
  program
    .command('id')
    .description(
      'Show the peer behind the API: its peer ID, name, addresses and how many peers it sees.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft id\n  pinraft id --host /ip4/127.0.0.1/tcp/9194 --enc json',
    )
    .action(async (_options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      io.stdout(output(options.enc, await client.id(), formatId))
    })
}
