import type { Command } from 'commander'
import { repoGc } from '../client/add-client.ts'
import type { RepoGcJson } from '../http/ipfs-context.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import type { CliIo } from './io.ts'

function formatRepoGc(result: { peer_map: Record<string, RepoGcJson> }): string {
  const lines: string[] = []
  for (const gc of Object.values(result.peer_map)) {
    const keys = gc.keys ?? []
    const removed = keys.filter((key) => key.key !== null)
    const failed = keys.filter((key): key is { key: null; error: string } => key.key === null)
    lines.push(
      `${gc.peer} | ${gc.peername} | ${gc.error === undefined ? `${removed.length} blocks removed` : `ERROR: ${gc.error}`}`,
    )
    for (const key of removed) lines.push(`  - ${key.key}`)
    for (const key of failed) lines.push(`  ! ${key.error}`)
  }
  return `${lines.join('\n')}\n`
}

export function registerIpfsCommands(program: Command, io: CliIo): void {
  const ipfs = program.command('ipfs').description("Operate on the cluster peers' IPFS nodes.")
  ipfs
    .command('gc')
    .description(
      "Garbage-collect every cluster peer's IPFS node (unpinned blocks are removed), or only this peer's with --local.",
    )
    .option('--local', "collect garbage on the asked peer's IPFS node only", false)
    .addHelpText('after', '\nExamples:\n  pinraft ipfs gc\n  pinraft ipfs gc --local --enc json')
    .action(async (_options: ClientOptions & { local: boolean }, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions & { local: boolean }>()
      const client = await apiClient(options, io)
      const result = await repoGc(
        {
          baseUrl: client.baseUrls,
          basicAuth: client.basicAuth,
          timeout: Number(options.timeout) * 1000,
          fetch: client.fetch,
          checkCertificate: options.checkCertificate !== false,
        },
        options.local,
      )
      io.stdout(
        options.enc === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatRepoGc(result),
      )
    })
}
