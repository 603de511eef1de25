import { hasProgram, runCommand } from './command.ts'
import { HarnessUnavailableError } from './errors.ts'
import type { Grudge } from './partitions.ts'

/** The harness's own test subnet: namespaces it creates and deletes, nothing else uses it. */
export const SUBNET_PREFIX = '10.250.0'
/** The harness's end in the root namespace, where the workload's HTTP clients run. */
export const HOST_ADDRESS = `${SUBNET_PREFIX}.1`

/** Node `index` (0-based) is at 10.250.0.11, .12, ... */
export function nodeAddress(index: number): string {
  return `${SUBNET_PREFIX}.${11 + index}`
}

export type Firewall = 'nft' | 'iptables'

/**
 * The nft input that replaces the bridge's blocked pairs with `grudge`: one transaction (nft
 * applies a file all or nothing), each pair blocked both ways.
 */
export function partitionTransaction(grudge: Grudge): string {
  const pairs = new Set<string>()
  grudge.forEach((blocked, index) => {
    for (const other of blocked) {
      pairs.add(`${nodeAddress(index)} . ${nodeAddress(other)}`)
      pairs.add(`${nodeAddress(other)} . ${nodeAddress(index)}`)
    }
  })
  const elements =
    pairs.size === 0 ? '' : `add element bridge pinraft blocked { ${[...pairs].join(', ')} }\n`
  return `flush set bridge pinraft blocked\n${elements}`
}

/** Why the harness cannot run here, or undefined when it can; says what to install or change. */
export async function networkUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux')
    return `network namespaces need Linux; this is ${process.platform}`
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'the harness creates network namespaces, veth pairs and a bridge: run it as root (sudo -E pnpm reliability)'
  }
  if (!(await hasProgram('ip'))) return 'the `ip` command is missing: apt-get install -y iproute2'
  if (!(await hasProgram('nft')) && !(await hasProgram('iptables'))) {
    return 'neither nft nor iptables is installed, partitions need one: apt-get install -y nftables'
  }
  const probe = `pinraft-probe-${process.pid}`
  try {
    await runCommand('ip', ['netns', 'add', probe])
  } catch (error) {
    return `\`ip netns add\` is not permitted here (${(error as Error).message}); run in a VM or a container with CAP_SYS_ADMIN and CAP_NET_ADMIN`
  }
  await runCommand('ip', ['netns', 'del', probe]).catch(() => undefined)
  return undefined
}

export interface TestNetworkInit {
  /** Short, unique per run: names of namespaces and links start with it (links have 15 characters at most). */
  readonly prefix: string
  readonly nodes: number
  readonly firewall?: Firewall
}

/**
 * Five (or `nodes`) network namespaces, each with a veth pair to a bridge in a hub namespace,
 * plus one veth from the root namespace to the bridge for the workload's clients. Partitions
 * are drop rules on the bridge (nftables' bridge family, in the hub namespace): the packets are
 * really lost in transit, and one `nft -f` transaction changes every node's view at once, so a
 * partition never passes through half-applied shapes. Without nft, iptables rules inside each
 * node namespace are changed in parallel (not atomic). `stop()` deletes everything it created,
 * also after a failed `start()`.
 */
export class TestNetwork {
  readonly prefix: string
  readonly nodes: number
  readonly hub: string
  readonly namespaces: readonly string[]
  readonly #hostLink: string
  #firewall: Firewall = 'nft'
  readonly #requestedFirewall: Firewall | undefined

  constructor(init: TestNetworkInit) {
    if (init.prefix.length > 8)
      throw new RangeError(
        `network prefix ${JSON.stringify(init.prefix)} is too long: 8 characters at most`,
      )
    this.prefix = init.prefix
    this.nodes = init.nodes
    this.hub = `${init.prefix}-hub`
    this.namespaces = Array.from(
      { length: init.nodes },
      (_, index) => `${init.prefix}-n${index + 1}`,
    )
    this.#hostLink = `${init.prefix}-h`
    this.#requestedFirewall = init.firewall
  }

  get firewall(): Firewall {
    return this.#firewall
  }

  /** `ip netns exec <namespace>` + the command: how a process is started inside node `index`. */
  wrap(index: number, command: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.namespaces[index]!, ...command]
  }

  async start(): Promise<void> {
    this.#firewall = this.#requestedFirewall ?? ((await hasProgram('nft')) ? 'nft' : 'iptables')
    const { stdout } = await runCommand('ip', ['-o', '-4', 'addr', 'show'])
    if (stdout.includes(`${HOST_ADDRESS}/`)) {
      throw new HarnessUnavailableError(
        `${HOST_ADDRESS} is already configured in the root namespace: another reliability run is active, or a previous one was not cleaned up (ip link del <prefix>-h; ip netns del <prefix>-...)`,
      )
    }
    try {
      const ip = (...args: string[]) => runCommand('ip', args)
      await ip('netns', 'add', this.hub)
      await ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge')
      await ip('-n', this.hub, 'link', 'set', 'br0', 'up')
      await ip('-n', this.hub, 'link', 'set', 'lo', 'up')
      await ip('link', 'add', this.#hostLink, 'type', 'veth', 'peer', 'name', `${this.prefix}-hp`)
      await ip('link', 'set', `${this.prefix}-hp`, 'netns', this.hub)
      await ip('-n', this.hub, 'link', 'set', `${this.prefix}-hp`, 'master', 'br0', 'up')
      await ip('addr', 'add', `${HOST_ADDRESS}/24`, 'dev', this.#hostLink)
      await ip('link', 'set', this.#hostLink, 'up')
      for (let index = 0; index < this.nodes; index++) {
        const namespace = this.namespaces[index]!
        const outer = `${this.prefix}-v${index + 1}`
        await ip('netns', 'add', namespace)
        await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', `${outer}p`)
        await ip('link', 'set', outer, 'netns', this.hub)
        await ip('-n', this.hub, 'link', 'set', outer, 'master', 'br0', 'up')
        await ip('link', 'set', `${outer}p`, 'netns', namespace)
        await ip('-n', namespace, 'link', 'set', `${outer}p`, 'name', 'eth0')
        await ip('-n', namespace, 'addr', 'add', `${nodeAddress(index)}/24`, 'dev', 'eth0')
        await ip('-n', namespace, 'link', 'set', 'eth0', 'up')
        await ip('-n', namespace, 'link', 'set', 'lo', 'up')
      }
      if (this.#firewall === 'nft') await this.#setUpBridgeFirewall()
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  async #setUpBridgeFirewall(): Promise<void> {
    // One set of blocked (source, destination) pairs on the bridge: a partition rewrites only the
    // set, in one transaction.
    const ruleset = `table bridge pinraft {
  set blocked { type ipv4_addr . ipv4_addr; }
  chain forward { type filter hook forward priority 0; policy accept; ip saddr . ip daddr @blocked drop; }
}
`
    await runCommand('ip', ['netns', 'exec', this.hub, 'nft', '-f', '-'], { input: ruleset })
  }

  /**
   * Replaces the current partition with `grudge` (node i drops every packet to and from
   * grudge[i]); with nft, all nodes at once.
   */
  async partition(grudge: Grudge): Promise<void> {
    if (this.#firewall === 'nft') {
      await runCommand('ip', ['netns', 'exec', this.hub, 'nft', '-f', '-'], {
        input: partitionTransaction(grudge),
      })
      return
    }
    await Promise.all(
      this.namespaces.map(async (namespace, index) => {
        const blocked = (grudge[index] ?? []).map(nodeAddress)
        const iptables = (...args: string[]) =>
          runCommand('ip', ['netns', 'exec', namespace, 'iptables', ...args])
        await iptables('-F')
        for (const address of blocked) {
          await iptables('-A', 'INPUT', '-s', address, '-j', 'DROP')
          await iptables('-A', 'OUTPUT', '-d', address, '-j', 'DROP')
        }
      }),
    )
  }

  async heal(): Promise<void> {
    await this.partition(this.namespaces.map(() => []))
  }

  /** Deletes every namespace and link this network created; safe to call more than once. */
  async stop(): Promise<void> {
    const { stdout } = await runCommand('ip', ['netns', 'list']).catch(() => ({ stdout: '' }))
    const existing = new Set(stdout.split('\n').map((line) => line.split(' ')[0]))
    for (const namespace of [...this.namespaces, this.hub]) {
      if (existing.has(namespace))
        await runCommand('ip', ['netns', 'del', namespace]).catch(() => undefined)
    }
    await runCommand('ip', ['link', 'del', this.#hostLink]).catch(() => undefined)
  }
}
