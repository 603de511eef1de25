import type { Command } from 'commander'
import { initializeFolder } from '../config/initialize.ts'
import { configurationFolder } from '../config/paths.ts'
import type { GlobalOptions } from './global-options.ts'
import type { CliIo } from './io.ts'

export function splitList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  ]
}

export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(
      'Create the configuration folder: service.json (every section at its defaults), identity.json (a new Ed25519 key and peer ID), a cluster secret (random, or PINRAFT_SECRET) and, with --peers, the peerstore file.',
    )
    .option(
      '--peers <multiaddrs>',
      'comma-separated multiaddresses of the other peers, written to the peerstore file',
      splitList,
      [],
    )
    .option('-f, --force', 'replace an existing configuration and identity', false)
    .option(
      '--ipfs-api <multiaddr>',
      'use the Kubo daemon whose RPC API listens here (ipfs_connector.ipfshttp) instead of the embedded IPFS node, e.g. /ip4/127.0.0.1/tcp/5001',
    )
    .addHelpText(
      'after',
      `
Examples:
  pinraft init                                  # ~/.pinraft, a new cluster secret
  PINRAFT_SECRET=<64 hex> pinraft init          # a peer of an existing cluster
  pinraft --config ./peer2 init --peers /ip4/192.0.2.1/tcp/9096/p2p/12D3KooW...
  pinraft init --ipfs-api /ip4/127.0.0.1/tcp/5001   # beside an existing Kubo`,
    )
    .action(
      async (options: { peers: string[]; force: boolean; ipfsApi?: string }, command: Command) => {
        const global = command.optsWithGlobals<GlobalOptions>()
        const folder = configurationFolder(global.config, io.environment)
        const result = await initializeFolder({
          folder,
          peers: options.peers,
          force: options.force,
          secret: io.environment.PINRAFT_SECRET,
          ipfsApi: options.ipfsApi,
        })
        io.stdout(`pinraft configuration written to ${folder}:\n`)
        for (const file of result.files) io.stdout(`  ${file}\n`)
        io.stdout(`peer ID: ${result.peerId}\n`)
        if (result.generatedSecret) {
          io.stdout(
            'A new cluster secret was generated. Every peer of the cluster needs the same one: copy cluster.secret from service.json, or run `pinraft init` on the other peers with PINRAFT_SECRET=<that secret>.\n',
          )
        }
        io.stdout(
          `Start the peer with: pinraft${global.config === undefined ? '' : ` --config ${global.config}`} daemon\n`,
        )
      },
    )
}
