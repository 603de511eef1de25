import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pino } from 'pino'
import type { ApiContext, ApiOptions } from '../../src/http/api-context.ts'
import { createApp } from '../../src/http/app.ts'
import { idJson } from '../../src/http/id-json.ts'
import { MemoryConsensus } from './memory-consensus.ts'

export const CID_V0 = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'
export const CID_V1 = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

export async function newPeerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

export interface ApiFixture {
  consensus: MemoryConsensus
  self: string
  other: string
  unreachable: string
  app: ReturnType<typeof createApp>
  /** What the app was built from: a second app (a real listening server) can share it. */
  context: ApiContext
  now: number
}

/**
 * An app over a `MemoryConsensus` with three members: this peer, `other` (answers its ID) and
 * `unreachable` (fails to).
 */
export async function apiFixture(
  options: { api?: ApiOptions; now?: number; logger?: ApiContext['logger'] } = {},
): Promise<ApiFixture> {
  const [self, other, unreachable] = await Promise.all([newPeerId(), newPeerId(), newPeerId()])
  const consensus = new MemoryConsensus(self, [other, unreachable])
  const now = options.now ?? Date.parse('2030-01-02T03:04:05Z')
  const context: ApiContext = {
    consensus,
    peername: 'alpha',
    version: '9.9.9',
    addresses: () => [`/ip4/127.0.0.1/tcp/9096/p2p/${self}`],
    peerAddresses: async (peer) => [`/ip4/127.0.0.2/tcp/9096/p2p/${peer}`],
    remoteId: async (peer) => {
      if (peer !== other) throw new Error(`could not dial ${peer}`)
      return idJson({
        id: peer,
        peername: 'beta',
        version: '9.9.9',
        cluster_peers: consensus.members,
      })
    },
    replicationFactorMin: -1,
    replicationFactorMax: -1,
    peerTimeout: 1000,
    now: () => now,
    logger: options.logger ?? pino({ level: 'silent' }),
  }
  const app = createApp({ context, api: options.api })
  await app.ready()
  return { consensus, self, other, unreachable, app, context, now }
}

/** Splits an IPFS Cluster stream body (one JSON value per line). */
export function jsonLines(body: string): unknown[] {
  return body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown)
}
