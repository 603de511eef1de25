import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { AlertJson, BandwidthByProtocolJson, MetricJson } from '../client/health-json.ts'
import { UsageError } from '../errors.ts'
import { apiClient, type ClientOptions } from './client-options.ts'
import { connectGraphToDot } from './connect-graph-dot.ts'
import { output } from './format.ts'
import { humanBytes, relativeTime } from './humanize.ts'
import type { CliIo } from './io.ts'

/** UnixNano (as JSON numbers carry it, to the microsecond) to milliseconds. */
function fromNanoseconds(nanoseconds: number): number {
  return nanoseconds / 1e6
}

/** One line per metric, as ctl: `<peer> | <name>: <value> | Expires in: <relative time>`. */
export function formatMetric(metric: MetricJson, now: number): string {
  const value =
    metric.name === 'freespace' && metric.weight > 0
      ? humanBytes(metric.weight)
      : (metric.value ?? '')
  return `${metric.peer} | ${metric.name}: ${value} | Expires in: ${relativeTime(fromNanoseconds(metric.expire), now)}\n`
}

/** One line per alert, as ctl: `<peer>: <name>. Expired at: <when>. Triggered at: <when>`. */
export function formatAlert(alert: AlertJson, now: number): string {
  const triggered = Date.parse(alert.triggered_at)
  return `${alert.peer}: ${alert.name}. Expired at: ${relativeTime(fromNanoseconds(alert.expire), now)}. Triggered at: ${relativeTime(Number.isNaN(triggered) ? 0 : triggered, now)}\n`
}

/** One line per protocol, sorted, as ctl: totals in SI units, rates in bytes per second. */
export function formatBandwidth(bandwidth: BandwidthByProtocolJson): string {
  return Object.keys(bandwidth)
    .sort()
    .map((protocol) => {
      const stat = bandwidth[protocol]!
      return `${protocol.padStart(25)}: In: ${humanBytes(stat.total_in).padStart(7)}. Out: ${humanBytes(stat.total_out).padStart(7)}. RateIn: ${stat.rate_in.toFixed(2)}B/s. RateOut: ${stat.rate_out.toFixed(2)}B/s\n`
    })
    .join('')
}

interface GraphOptions extends ClientOptions {
  file?: string
  allIpfsPeers: boolean
}

/** `pinraft health …`: ipfs-cluster-ctl's monitoring commands. */
export function registerHealthCommands(program: Command, io: CliIo): void {
  const health = program
    .command('health')
    .description('Cluster monitoring information: connectivity, metrics, alerts, bandwidth.')

  health
    .command('graph')
    .description(
      'Ask every cluster peer whom it is connected to (cluster peers and IPFS nodes) and print the graph as a Graphviz DOT file, as ipfs-cluster-ctl does.',
    )
    .option('-f, --file <path>', 'write the DOT file there instead of to the output')
    .option(
      '--all-ipfs-peers',
      "also draw the IPFS peers outside the cluster that the cluster's IPFS nodes are connected to",
      false,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft health graph | dot -Tpng > cluster.png\n  pinraft health graph --file cluster.dot --all-ipfs-peers',
    )
    .action(async (_options: GraphOptions, command: Command) => {
      const options = command.optsWithGlobals<GraphOptions>()
      const graph = await (await apiClient(options, io)).connectGraph()
      const dot = connectGraphToDot(graph, options.allIpfsPeers === true)
      if (options.file === undefined || options.file === '') {
        io.stdout(dot)
        return
      }
      try {
        await writeFile(options.file, dot)
      } catch (error) {
        throw new UsageError(
          `creating output file ${options.file}: ${(error as Error).message}; give a --file path in a folder you can write to`,
        )
      }
    })

  health
    .command('metrics')
    .description(
      "Without a name, list the metric names this peer's monitor knows; with one, print the latest valid metric of that name from every peer.",
    )
    .argument('[name]', 'a metric name: freespace, reposize, numpin, tags, pinqueue, ping…')
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft health metrics\n  pinraft health metrics freespace\n  pinraft health metrics ping --enc json',
    )
    .action(async (name: string | undefined, _options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const client = await apiClient(options, io)
      if (name === undefined || name === '') {
        const names = await client.metricNames()
        io.stdout(output(options.enc, names, (list) => list.map((entry) => `${entry}\n`).join('')))
        return
      }
      const metrics = await client.latestMetrics(name)
      const now = Date.now()
      io.stdout(
        output(options.enc, metrics, (list) =>
          list.map((metric) => formatMetric(metric, now)).join(''),
        ),
      )
    })

  health
    .command('alerts')
    .description(
      'List the alerts this peer saw lately, newest first: a metric of a peer expired without a newer one (a ping alert is what triggers repinning).',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  pinraft health alerts\n  pinraft health alerts --enc json',
    )
    .action(async (_options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const alerts = await (await apiClient(options, io)).alerts()
      const now = Date.now()
      io.stdout(
        output(options.enc, alerts, (list) =>
          list.map((alert) => formatAlert(alert, now)).join(''),
        ),
      )
    })

  health
    .command('bandwidth')
    .description(
      "Print the bytes this peer's libp2p host sent and received, and its current rates, per protocol.",
    )
    .addHelpText('after', '\nExamples:\n  pinraft health bandwidth')
    .action(async (_options: ClientOptions, command: Command) => {
      const options = command.optsWithGlobals<ClientOptions>()
      const bandwidth = await (await apiClient(options, io)).bandwidthByProtocol()
      io.stdout(output(options.enc, bandwidth, formatBandwidth))
    })
}
