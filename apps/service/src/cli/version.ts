import type { Command } from 'commander'
import { apiClient, type ClientOptions } from './client-options.ts'
import { output } from './format.ts'
import type { CliIo } from './io.ts'

export function registerVersionCommand(program: Command, io: CliIo): void {
  program
    .command('version')
    .description(
      "Show the version of the peer behind the API (`pinraft --version` shows this program's).",
    )
    .addHelpText('after', '\nExamples:\n  pinraft version\n  pinraft version --enc json')
    .action(async (_options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      const version = await client.version()
      io.stdout(output(options.enc, { version }, (value) => `${value.version}\n`))
    })
}
