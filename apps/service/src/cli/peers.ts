import type { Command } from 'commander'
import { apiClient, type ClientOptions } from './client-options.ts'
import { formatId, output } from './format.ts'
import type { CliIo } from './io.ts'

export function registerPeersCommands(program: Command, io: CliIo): void {
  const peers = program.command('peers').description('List or remove the peers of the cluster.')

  peers
    .command('ls')
    .description('List the members of the peerset, each as it describes itself.')
    .addHelpText('after', '\nExamples:\n  pinraft peers ls\n  pinraft peers ls --enc json')
    .action(async (_options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      io.stdout(output(options.enc, await client.peers(), (list) => list.map(formatId).join('')))
    })

  peers
    .command('rm')
    .description(
      'Remove a peer from the cluster (it shuts down and cleans its state if it is running).',
    )
    .argument('<peer-id>', 'the peer to remove')
    .addHelpText('after', '\nExamples:\n  pinraft peers rm 12D3KooW...')
    .action(async (peerId: string, _options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      await client.removePeer(peerId)
      io.stdout(output(options.enc, { removed: peerId }, () => `removed ${peerId}\n`))
    })
}
