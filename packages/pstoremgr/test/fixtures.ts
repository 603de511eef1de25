import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type DNS, dns, RecordType } from '@multiformats/dns'
import type { DNSResolver } from '@multiformats/dns/resolvers'
import { CODE_P2P, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { onTestFinished } from 'vitest'
import type { PeerDialer } from '../src/index.ts'

export async function newPeerId(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** A libp2p node that is never started: its peer store is real, and it opens no socket. */
export async function offlineNode(): Promise<Libp2p> {
  return createLibp2p({ start: false })
}

/** A fresh folder, removed when the current test ends. */
export async function temporaryFolder(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'pstoremgr-'))
  onTestFinished(() => rm(path, { recursive: true, force: true }))
  return path
}

/**
 * A dialer that records every dial and succeeds only for the peers in `reachable`; a successful
 * dial marks the peer connected.
 */
export class FakeDialer implements PeerDialer {
  readonly dials: Multiaddr[][] = []
  readonly reachable = new Set<string>()
  readonly connected = new Set<string>()

  async openConnection(target: Multiaddr[], options?: AbortOptions): Promise<unknown> {
    options?.signal?.throwIfAborted()
    this.dials.push(target)
    const peer = target[0]?.getComponents().findLast((c) => c.code === CODE_P2P)?.value
    if (peer === undefined || !this.reachable.has(peer)) {
      throw new Error(`connection refused by ${peer}`)
    }
    this.connected.add(peer)
    return {}
  }

  getConnections(peerId?: PeerId): unknown[] {
    return peerId !== undefined && this.connected.has(peerId.toString()) ? [{}] : []
  }

  /** The peers dialed, in order. */
  dialedPeers(): string[] {
    return this.dials.map(
      (target) => target[0]?.getComponents().findLast((c) => c.code === CODE_P2P)?.value ?? '',
    )
  }
}

/**
 * A DNS client over an in-memory zone of TXT records: `records['_dnsaddr.example.com']` lists
 * the TXT strings. A name in `failing` fails as an unreachable server would (until removed).
 */
export function fakeDns(
  records: Record<string, string[]>,
  failingNames: readonly string[] = [],
): DNS & { queries: string[]; failing: Set<string> } {
  const queries: string[] = []
  const failing = new Set(failingNames)
  const resolver: DNSResolver = async (domain) => {
    queries.push(domain)
    if (failing.has(domain)) throw new Error(`server failure for ${domain}`)
    const answers = records[domain] ?? []
    return {
      Status: 0,
      TC: false,
      RD: true,
      RA: true,
      AD: false,
      CD: false,
      Question: [{ name: domain, type: RecordType.TXT }],
      Answer: answers.map((data) => ({ name: domain, type: RecordType.TXT, TTL: 60, data })),
    }
  }
  const client = dns({ resolvers: { '.': resolver } })
  return Object.assign(client, { queries, failing })
}
