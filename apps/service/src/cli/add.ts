import { type Command, InvalidArgumentError, Option } from 'commander'
import { type AddedOutputJson, addFiles, uploadEntries } from '../client/add-client.ts'
import { ApiResponseError } from '../errors.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import type { CliIo } from './io.ts'

interface AddOptions extends ClientOptions {
  recursive: boolean
  name?: string
  replicationMin?: number
  replicationMax?: number
  cidVersion?: number
  rawLeaves?: boolean
  wrapWithDirectory: boolean
  format?: 'unixfs' | 'car'
  local: boolean
  chunker?: string
  hash?: string
  trickle: boolean
}

function integer(minimum: number, maximum: number) {
  return (value: string): number => {
    const number = Number(value)
    if (!Number.isInteger(number) || number < minimum || number > maximum) {
      throw new InvalidArgumentError(`must be an integer from ${minimum} to ${maximum}`)
    }
    return number
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`
}

/** The query 1.x's client (`AddParams.ToQueryString`) sends, from the flags given. */
function addQuery(options: AddOptions): URLSearchParams {
  const query = new URLSearchParams()
  if (options.name !== undefined) query.set('name', options.name)
  if (options.replicationMin !== undefined)
    query.set('replication-min', String(options.replicationMin))
  if (options.replicationMax !== undefined)
    query.set('replication-max', String(options.replicationMax))
  query.set('local', String(options.local))
  query.set('recursive', String(options.recursive))
  query.set('layout', options.trickle ? 'trickle' : '')
  query.set('chunker', options.chunker ?? 'size-262144')
  if (options.rawLeaves !== undefined) query.set('raw-leaves', String(options.rawLeaves))
  query.set('wrap-with-directory', String(options.wrapWithDirectory))
  query.set('cid-version', String(options.cidVersion ?? 0))
  query.set('hash', options.hash ?? 'sha2-256')
  query.set('stream-channels', 'true')
  query.set('format', options.format ?? 'unixfs')
  return query
}

export function registerAddCommand(program: Command, io: CliIo): void {
  program
    .command('add')
    .description(
      "Add files or directories to the cluster (IPFS Cluster's add): the peer builds the UnixFS DAG into its IPFS node and pins the root in the cluster.",
    )
    .argument('<path...>', 'files (or, with -r, directories) to add')
    .option('-r, --recursive', 'add directories and their content', false)
    .option('-n, --name <name>', 'a name for the pin')
    .option(
      '--replication-min <n>',
      'minimum number of peers to pin on (-1: everywhere)',
      integer(-1, 2_147_483_647),
    )
    .option(
      '--replication-max <n>',
      'maximum number of peers to pin on (-1: everywhere)',
      integer(-1, 2_147_483_647),
    )
    .option('--cid-version <version>', 'CID version: 0 (default) or 1', integer(0, 1))
    .option('--raw-leaves', 'use raw blocks for leaves (the default with --cid-version 1)')
    .option('--no-raw-leaves', 'wrap leaves in UnixFS nodes')
    .option('-w, --wrap-with-directory', 'wrap the files in a directory', false)
    .addOption(
      new Option(
        '--format <format>',
        'unixfs (default) or car: import a CAR file as it is',
      ).choices(['unixfs', 'car']),
    )
    .option(
      '--local',
      "write the blocks to this peer's IPFS node only (they always are here)",
      false,
    )
    .option('--chunker <chunker>', 'size-<bytes> (default size-262144) or rabin-<min>-<avg>-<max>')
    .option('--hash <function>', 'sha2-256 (the default and only one supported)')
    .option('--trickle', 'use the trickle DAG layout instead of balanced', false)
    .addHelpText(
      'after',
      `
Examples:
  pinraft add photo.jpg --name holiday
  pinraft add -r ./site --cid-version 1
  pinraft add export.car --format car
  pinraft add big.iso --enc json | jq -r 'select(.cid) | .cid'`,
    )
    .action(async (paths: string[], _options: AddOptions, command: Command) => {
      const options = command.optsWithGlobals<AddOptions>()
      const client = await apiClient(options, io)
      const entries = await uploadEntries(paths, options.recursive)
      const totalBytes = entries.reduce((sum, entry) => sum + entry.size, 0)
      const totalFiles = entries.length
      const bar = process.stderr.isTTY === true && options.enc === 'text'
      let lastDraw = 0
      const draw = (bytes: number, files: number, force = false): void => {
        const now = Date.now()
        if (!bar || (!force && now - lastDraw < 100)) return
        lastDraw = now
        const fraction = totalBytes === 0 ? 1 : bytes / totalBytes
        const width = 30
        const filled = Math.round(fraction * width)
        io.stderr(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${megabytes(bytes)} / ${megabytes(totalBytes)}, ${files}/${totalFiles} files`,
        )
      }
      const outputs: AddedOutputJson[] = []
      try {
        for await (const added of addFiles(
          {
            baseUrl: client.baseUrls,
            basicAuth: client.basicAuth,
            timeout: Number(options.timeout) * 1000,
            fetch: client.fetch,
            checkCertificate: options.checkCertificate !== false,
          },
          entries,
          addQuery(options),
          (progress) => draw(progress.bytes, progress.files),
        )) {
          outputs.push(added)
          if (options.enc === 'json') {
            io.stdout(`${JSON.stringify(added)}\n`)
          } else if (added.cid !== null) {
            if (bar) io.stderr('\r\u001b[K')
            io.stdout(`added ${added.cid} ${added.name}\n`)
          }
        }
      } finally {
        if (bar) io.stderr('\r\u001b[K')
      }
      if (!outputs.some((added) => added.cid !== null)) {
        throw new ApiResponseError(500, 'the peer added nothing: check its log')
      }
    })
}
