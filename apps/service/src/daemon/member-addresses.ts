import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { IdJson } from '../http/id-json.ts'
import type { Logger } from '../logging/logger.ts'

/** What the address exchange needs from the daemon's parts. */
export interface MemberAddressesComponents {
  readonly peerId: string
  /** The cluster's members (consensus.peers). */
  members(options: { signal: AbortSignal }): Promise<string[]>
  /** The addresses this peer knows for a member (the peerstore manager's). */
  knownAddresses(peerId: PeerId): Promise<Multiaddr[]>
  /** Whether this peer has a connection to the member now. */
  connected(peerId: PeerId): boolean
  /** The member's `/id` over the service protocol (it carries `cluster_peers_addresses`). */
  requestId(peerId: string, options: { signal: AbortSignal }): Promise<IdJson>
  /** Adds addresses to the peer store and connects to them. */
  importAddresses(addresses: readonly string[], options: { signal: AbortSignal }): Promise<void>
  readonly logger: Logger
}

/**
 * Learns the addresses of members this peer cannot dial. A peer knows a member's addresses from
 * the join answer, the peerstore file or that member connecting to it; when a join answer came
 * before the answering peer knew a member (or that member joined first and never connected),
 * two members can stay unable to reach each other, and the status, monitor and connect-graph
 * calls between them fail with "no valid addresses". Each round asks a missing member it is
 * connected to (one that dialled in) for its own `/id` addresses, then the other members it is
 * connected to for their `/id`, whose `cluster_peers_addresses` list what they know, and
 * imports the addresses of the members it lacks. Resolves with how many members were missing
 * after the round.
 */
export async function learnMemberAddresses(
  components: MemberAddressesComponents,
  options: { signal: AbortSignal; callTimeout: number },
): Promise<number> {
  const members = (await components.members(options)).filter(
    (member) => member !== components.peerId,
  )
  const missing = new Set<string>()
  for (const member of members) {
    const known = await components.knownAddresses(peerIdFromString(member))
    if (known.length === 0) missing.add(member)
  }
  if (missing.size === 0) return 0
  // A missing member this peer is connected to (it dialled in) answers for itself.
  for (const member of [...missing]) {
    if (!components.connected(peerIdFromString(member))) continue
    try {
      const id = await components.requestId(member, {
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.callTimeout)]),
      })
      const own = id.addresses.filter((address) => address.endsWith(`/p2p/${member}`))
      if (own.length === 0) continue
      await components.importAddresses(own, options)
      missing.delete(member)
      components.logger.info(
        { from: member, addresses: own },
        'learned the addresses of members this peer could not dial',
      )
    } catch (error) {
      options.signal.throwIfAborted()
      components.logger.debug(
        { from: member, err: (error as Error).message },
        'could not ask a member for its addresses',
      )
    }
  }
  for (const source of members) {
    if (missing.size === 0) break
    if (missing.has(source) || !components.connected(peerIdFromString(source))) continue
    try {
      const id = await components.requestId(source, {
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.callTimeout)]),
      })
      const learned = id.cluster_peers_addresses.filter((address) =>
        [...missing].some((member) => address.endsWith(`/p2p/${member}`)),
      )
      if (learned.length === 0) continue
      await components.importAddresses(learned, options)
      for (const member of [...missing]) {
        if (learned.some((address) => address.endsWith(`/p2p/${member}`))) missing.delete(member)
      }
      components.logger.info(
        { from: source, addresses: learned },
        'learned the addresses of members this peer could not dial',
      )
    } catch (error) {
      options.signal.throwIfAborted()
      components.logger.debug(
        { from: source, err: (error as Error).message },
        'could not ask a member for the addresses it knows',
      )
    }
  }
  return missing.size
}

/**
 * Runs `learnMemberAddresses` every `interval` until stopped (the first round at once), and
 * `kickDelay` after each `kick()` (the daemon kicks when a member is added, so that old members
 * reach a new one, and a new one the old ones, within about a second). A round costs a lookup
 * per member when nothing is missing.
 */
export function startMemberAddressExchange(
  components: MemberAddressesComponents,
  init: { interval: number; callTimeout: number; kickDelay?: number },
): { stop(): void; kick(): void } {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | null = null
  let dueAt = Number.POSITIVE_INFINITY
  let running = false
  let again = false
  /** Runs a round after `delay`, unless one is already due sooner. */
  const schedule = (delay: number): void => {
    if (controller.signal.aborted || Date.now() + delay >= dueAt) return
    if (timer !== null) clearTimeout(timer)
    dueAt = Date.now() + delay
    timer = setTimeout(round, delay)
    timer.unref()
  }
  const round = (): void => {
    timer = null
    dueAt = Number.POSITIVE_INFINITY
    if (running) {
      again = true
      return
    }
    running = true
    void learnMemberAddresses(components, {
      signal: controller.signal,
      callTimeout: init.callTimeout,
    })
      .catch((error: unknown) => {
        if (!controller.signal.aborted)
          components.logger.debug({ err: error }, 'member address exchange failed')
      })
      .finally(() => {
        running = false
        schedule(again ? 0 : init.interval)
        again = false
      })
  }
  round()
  return {
    stop: () => {
      controller.abort()
      if (timer !== null) clearTimeout(timer)
    },
    kick: () => schedule(init.kickDelay ?? 1_000),
  }
}
