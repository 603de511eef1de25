import { accessSync, constants } from 'node:fs'
import { delimiter, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Command, Option } from 'commander'
import { convertIpfsClusterFolder } from '../config/from-ipfs-cluster.ts'
import { initializeFolder } from '../config/initialize.ts'
import { configurationFolder } from '../config/paths.ts'
import { UsageError } from '../errors.ts'
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

/**
 * How to run `pinraft` from here, as a command that exists: `pinraft` when it is on PATH by
 * itself, `pnpm exec pinraft` when only pnpm's node_modules/.bin has it (inside the checkout),
 * else this Node and this program's path.
 */
export function pinraftCommand(environment: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  for (const folder of (environment.PATH ?? '').split(delimiter)) {
    if (folder === '') continue
    try {
      accessSync(join(folder, 'pinraft'), constants.X_OK)
    } catch {
      continue
    }
    const binFolder = `${sep}node_modules${sep}.bin`
    if (!folder.endsWith(binFolder)) return 'pinraft'
    // pnpm's own PATH: `pnpm exec` works inside that workspace; elsewhere, the full path does.
    const workspace = folder.slice(0, -binFolder.length)
    return cwd === workspace || cwd.startsWith(`${workspace}${sep}`)
      ? 'pnpm exec pinraft'
      : shellWord(join(folder, 'pinraft'))
  }
  // Not on PATH: this very program, with this Node, always runs.
  const bin = fileURLToPath(new URL('../../bin/pinraft.js', import.meta.url))
  return `${shellWord(process.execPath)} ${shellWord(bin)}`
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`
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
    .option(
      '-f, --force',
      'replace an existing configuration and identity, and reset the peerstore file (to --peers, or empty)',
      false,
    )
    .option(
      '--ipfs-api <multiaddr>',
      'use the Kubo daemon whose RPC API listens here (ipfs_connector.ipfshttp) instead of the embedded IPFS node, e.g. /ip4/127.0.0.1/tcp/5001',
    )
    .option(
      '--from <ipfs-cluster folder>',
      'convert an IPFS Cluster 1.x folder: its service.json (the keys pinraft has; the rest are listed), identity.json (the same peer ID) and peerstore',
    )
    .addOption(
      new Option(
        '--consensus <component>',
        "the consensus component, as ipfs-cluster-service init takes it: pinraft is IPFS Cluster's raft",
      ).default('raft'),
    )
    .addHelpText(
      'after',
      `
Examples:
  pinraft init                                  # ~/.pinraft, a new cluster secret
  PINRAFT_SECRET=<64 hex> pinraft init          # a peer of an existing cluster
  pinraft --config ./peer2 init --peers /ip4/192.0.2.1/tcp/9096/p2p/12D3KooW...
  pinraft init --ipfs-api /ip4/127.0.0.1/tcp/5001   # beside an existing Kubo
  pinraft --config ~/.pinraft init --from ~/.ipfs-cluster    # convert an IPFS Cluster peer`,
    )
    .action(
      async (
        options: {
          peers: string[]
          force: boolean
          consensus: string
          from?: string
          ipfsApi?: string
        },
        command: Command,
      ) => {
        const global = command.optsWithGlobals<GlobalOptions>()
        if (options.consensus !== 'raft') {
          throw new UsageError(
            options.consensus === 'crdt'
              ? "--consensus crdt is not available: pinraft implements IPFS Cluster's raft consensus only. Use --consensus raft (the default), or IPFS Cluster itself for a CRDT cluster"
              : `--consensus must be raft (pinraft implements IPFS Cluster's raft consensus), got ${JSON.stringify(options.consensus)}`,
          )
        }
        const folder = configurationFolder(global.config, io.environment)
        const converted =
          options.from === undefined
            ? undefined
            : await convertIpfsClusterFolder(resolve(options.from), folder)
        const result = await initializeFolder({
          folder,
          peers: [...options.peers, ...(converted?.peers ?? [])],
          force: options.force,
          secret: io.environment.PINRAFT_SECRET,
          converted,
          ipfsApi: options.ipfsApi,
        })
        io.stdout(`pinraft configuration written to ${folder}:\n`)
        for (const file of result.files) io.stdout(`  ${file}\n`)
        io.stdout(`peer ID: ${result.peerId}\n`)
        if (converted !== undefined) {
          io.stdout(`converted from ${resolve(options.from!)} (the same peer ID and secret)\n`)
          if (converted.dropped.length > 0) {
            io.stdout(`${converted.dropped.length} key(s) were not carried over:\n`)
            for (const line of converted.dropped) io.stdout(`  - ${line}\n`)
          }
          io.stdout(
            'The pinset is not converted: run `ipfs-cluster-service state export -f pins.json` there, then `pinraft state import pins.json` here (on every peer, all stopped).\n',
          )
        }
        if (result.generatedSecret) {
          io.stdout(
            'A new cluster secret was generated. Every peer of the cluster needs the same one: copy cluster.secret from service.json, or run `pinraft init` on the other peers with PINRAFT_SECRET=<that secret>.\n',
          )
        }
        const configFlag =
          global.config === undefined ? '' : ` --config ${shellWord(resolve(global.config))}`
        io.stdout(`Start the peer with: ${pinraftCommand(io.environment)}${configFlag} daemon\n`)
      },
    )
}
