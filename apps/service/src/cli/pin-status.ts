import { parseGoDuration } from '@pinraft/consensus'
import { type Command, InvalidArgumentError } from 'commander'
import type { PinJson } from '../client/api-client.ts'
import type { GlobalPinInfoJson, StatusClient } from '../client/status-client.ts'
import type { ClientOptions } from './client-options.ts'
import { formatPin, output } from './format.ts'
import type { CliIo } from './io.ts'
import { statusClient, statusLine } from './status-output.ts'

/**
 * What `pin add` and `pin rm` do once the operation is committed, as ipfs-cluster-ctl does:
 * print the status (or, with `--no-status`, the pin), and with `--wait` first poll the status
 * until the allocated peers (or `--wait-limit` of them, by default replication-min for a pin)
 * reach it.
 */
export interface PinFollowUpOptions extends ClientOptions {
  /** `--no-status` makes it false. */
  status: boolean
  wait?: boolean
  /** A Go duration; unset: wait as long as it takes. */
  waitTimeout?: string
  waitLimit?: number
}

/** The follow-up failed; `exitCode` is ipfs-cluster-ctl's (2: the API answered an error, 62: timed out). */
export class PinFollowUpError extends Error {
  static readonly code = 'PinFollowUpError'
  override readonly name = 'PinFollowUpError'
  readonly exitCode: number
  constructor(message: string, exitCode: number) {
    super(message)
    this.exitCode = exitCode
  }
}

function waitTimeout(value: string): string {
  const milliseconds = parseGoDuration(value)
  if (milliseconds === null || milliseconds <= 0) {
    throw new InvalidArgumentError('must be a duration such as "30s", "5m" or "1h"')
  }
  return value
}

function waitLimit(value: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0)
    throw new InvalidArgumentError('must be a number of peers')
  return number
}

/** Adds `--no-status`, `--wait`, `--wait-timeout` and `--wait-limit` to `pin add` or `pin rm`. */
export function withPinFollowUpOptions(command: Command): Command {
  return command
    .option('--no-status', 'print the pin, not its status across the cluster')
    .option('-w, --wait', 'wait until the peers reach the status (pinned, or unpinned for pin rm)')
    .option(
      '--wait-timeout <duration>',
      'give up waiting after this long (default: wait forever)',
      waitTimeout,
    )
    .option(
      '--wait-limit <n>',
      'how many peers must reach the status (default: replication-min for a pin, all for an unpin)',
      waitLimit,
    )
}

/** 1.x's statusReached: an error anywhere stops the wait; remote peers do not count for pinned. */
export function statusReached(
  target: 'pinned' | 'unpinned',
  global: GlobalPinInfoJson,
  limit: number,
): boolean {
  const entries = Object.values(global.peer_map)
  for (const entry of entries) {
    if (['undefined', 'cluster_error', 'pin_error', 'unpin_error'].includes(entry.status)) {
      const reason = entry.error === '' ? entry.status : `${entry.status}: ${entry.error}`
      throw new PinFollowUpError(
        `error waiting for pin status: a peer (${entry.peername === '' ? 'unnamed' : entry.peername}) reports ${reason}; \`pinraft status ${global.cid}\` shows every peer, \`pinraft recover ${global.cid}\` retries`,
        2,
      )
    }
  }
  const bounded = Math.min(limit, entries.length)
  if (bounded > 0) return entries.filter((entry) => entry.status === target).length >= bounded
  return entries.every(
    (entry) => entry.status === target || (target === 'pinned' && entry.status === 'remote'),
  )
}

export interface WaitOptions {
  readonly limit: number
  /** Milliseconds; undefined waits forever. */
  readonly timeout?: number
  /** Milliseconds between two status requests (ipfs-cluster-ctl: 1s). */
  readonly interval?: number
  readonly signal?: AbortSignal
}

/** Polls `GET /pins/{cid}` until `target` is reached (1.x's client.WaitFor). */
export async function waitForStatus(
  client: StatusClient,
  cid: string,
  target: 'pinned' | 'unpinned',
  options: WaitOptions,
): Promise<GlobalPinInfoJson> {
  const interval = options.interval ?? 1000
  const deadline = options.timeout === undefined ? null : Date.now() + options.timeout
  for (;;) {
    options.signal?.throwIfAborted()
    const global = await client.status(cid, { signal: options.signal })
    if (statusReached(target, global, options.limit)) return global
    if (deadline !== null && Date.now() + interval > deadline) {
      throw new PinFollowUpError(
        `error waiting for pin status: ${cid} did not reach ${target} within the --wait-timeout`,
        62,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}

/**
 * Runs the follow-up of a committed `pin add` (target `pinned`) or `pin rm` (target `unpinned`)
 * and prints the result. The integrator calls it from the pin command's action with the pin the
 * API returned.
 */
export async function followUpPin(
  io: CliIo,
  options: PinFollowUpOptions,
  pin: PinJson,
  target: 'pinned' | 'unpinned',
  timing: { interval?: number; settle?: number } = {},
): Promise<void> {
  const client = await statusClient(options, io)
  let status: GlobalPinInfoJson | null = null
  if (options.wait === true) {
    const limit =
      options.waitLimit ?? (target === 'pinned' ? Math.max(0, pin.replication_factor_min) : 0)
    const timeout =
      options.waitTimeout === undefined
        ? undefined
        : (parseGoDuration(options.waitTimeout) ?? undefined)
    status = await waitForStatus(client, pin.cid, target, {
      limit,
      timeout,
      interval: timing.interval,
    })
  }
  if (!options.status) {
    io.stdout(output(options.enc, pin, formatPin))
    return
  }
  if (status === null) {
    // As ipfs-cluster-ctl: give the peers a moment to start before asking.
    await new Promise((resolve) => setTimeout(resolve, timing.settle ?? 1000))
    try {
      status = await client.status(pin.cid)
    } catch (error) {
      throw new PinFollowUpError(
        `error getting the status of ${pin.cid}: ${(error as Error).message}`,
        2,
      )
    }
  }
  io.stdout(statusLine(options.enc, status))
}
