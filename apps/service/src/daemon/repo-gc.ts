import type { IpfsConnector } from '@pinraft/ipfs-connector'
import type { RepoGcJson } from '../http/ipfs-context.ts'

/** 1.x's RepoGCLocal: collects garbage on this peer's IPFS node, as one RepoGC object. */
export async function localRepoGc(
  connector: IpfsConnector,
  peer: { peerId: string; peername: string },
  options?: { signal?: AbortSignal },
): Promise<RepoGcJson> {
  const keys: NonNullable<RepoGcJson['keys']> = []
  try {
    for await (const entry of connector.repoGc(options)) {
      keys.push('cid' in entry ? { key: entry.cid.toString() } : { key: null, error: entry.error })
    }
  } catch (error) {
    return {
      peer: peer.peerId,
      peername: peer.peername,
      keys: keys.length === 0 ? null : keys,
      error: (error as Error).message,
    }
  }
  return { peer: peer.peerId, peername: peer.peername, keys: keys.length === 0 ? null : keys }
}
