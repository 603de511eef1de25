import type { ConnectGraph } from './health.ts'
import type { PeerLinks } from './rpc/cluster-protocol.ts'

/**
 * 1.x's ConnectGraph from every member's answer: each member's cluster links (none when it
 * could not be asked), its peername and IPFS node, and that node's swarm peers (none when the
 * node did not answer). Every member of a Raft cluster is trusted.
 */
export async function buildConnectGraph(
  clusterId: string,
  members: readonly string[],
  links: (peer: string) => Promise<PeerLinks>,
  onError: (peer: string, error: unknown) => void,
): Promise<ConnectGraph> {
  const idToPeername: Record<string, string> = {}
  const ipfsLinks: Record<string, string[]> = {}
  const clusterLinks: Record<string, string[]> = {}
  const clusterTrustLinks: Record<string, boolean> = {}
  const clusterToIpfs: Record<string, string> = {}
  const answers = await Promise.all(
    members.map(async (peer) => {
      try {
        return await links(peer)
      } catch (error) {
        onError(peer, error)
        return null
      }
    }),
  )
  for (const [index, peer] of members.entries()) {
    clusterTrustLinks[peer] = true
    clusterLinks[peer] = []
    const answer = answers[index]
    if (answer === null || answer === undefined) continue
    clusterLinks[peer] = [...answer.clusterPeers].filter((other) => other !== peer).sort()
    idToPeername[peer] = answer.peername
    if (answer.ipfsError !== '' || answer.ipfsId === '') continue
    clusterToIpfs[peer] = answer.ipfsId
    ipfsLinks[answer.ipfsId] = [...answer.ipfsPeers].sort()
  }
  return { clusterId, idToPeername, ipfsLinks, clusterLinks, clusterTrustLinks, clusterToIpfs }
}
