import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CONSENSUS_RPC_PROTOCOL,
  cleanupOfflineState,
  resolveRaftConfiguration,
} from '../src/index.ts'
import { decodeResponse, encodeRequest, type RpcResponse } from '../src/rpc/rpc-protocol.ts'
import {
  type ConsensusLibp2p,
  cidFor,
  eventually,
  fastRaft,
  RecordingLogger,
  TestCluster,
  type TestPeer,
} from './support/peers.ts'

let cluster: TestCluster
const throwaways: ConsensusLibp2p[] = []

afterEach(async () => {
  for (const node of throwaways.splice(0)) await node.stop()
  await cluster?.stopAll()
})

/** A libp2p node with a new identity that knows where `member` listens (it runs no Raft). */
async function throwaway(member: TestPeer): Promise<ConsensusLibp2p> {
  const node = await cluster.node(await generateKeyPair('Ed25519'))
  throwaways.push(node)
  await node.peerStore.merge(member.libp2p.peerId, { multiaddrs: member.libp2p.getMultiaddrs() })
  // Connected before the test sends anything, so that what runs concurrently is the joins.
  await node.dial(member.libp2p.peerId)
  return node
}

/** The RPC's add-peer for the sender's own ID, as a holder of the secret outside the set sends it. */
async function addItself(node: ConsensusLibp2p, member: TestPeer): Promise<RpcResponse> {
  const stream = await node.dialProtocol(member.libp2p.peerId, CONSENSUS_RPC_PROTOCOL)
  const framed = lpStream(stream)
  await framed.write(encodeRequest({ kind: 'add-peer', peerId: node.peerId.toString() }))
  const response = decodeResponse((await framed.read()).subarray())
  await stream.close().catch(() => {})
  return response
}

/** Tracks the largest peerset `peer` ever applied. */
function largestPeerset(peer: TestPeer): () => number {
  let size = peer.consensus.status().voters.length + peer.consensus.status().nonVoters.length
  let largest = size
  peer.consensus.addEventListener('peer:add', () => {
    size++
    largest = Math.max(largest, size)
  })
  peer.consensus.addEventListener('peer:remove', () => {
    size--
  })
  return () => largest
}

const bounded = { non_voter_timeout: '1s', commit_retries: 0 }

describe('joins are bounded (issue 13 §5)', () => {
  it('admits one of four throwaway identities adding themselves by RPC, and removes it once gone', async () => {
    cluster = new TestCluster()
    await cluster.bootstrap(3, bounded)
    const leader = await cluster.leader()
    const largest = largestPeerset(leader)
    const nodes: ConsensusLibp2p[] = []
    for (let i = 0; i < 4; i++) nodes.push(await throwaway(leader))
    const responses = await Promise.all(nodes.map((node) => addItself(node, leader)))
    const admitted = responses.filter((response) => response.ok)
    const refused = responses.filter(
      (response) => !response.ok && response.errorName === 'JoinInProgressError',
    )
    expect(admitted).toHaveLength(1)
    expect(refused).toHaveLength(3)
    expect(refused[0]?.ok === false && refused[0].message).toMatch(/one peer at a time; retry/)
    expect(largest()).toBe(4)
    for (const node of nodes) await node.stop()
    // Never heard from: the leader removes it within non_voter_timeout.
    await eventually(async () => (await leader.consensus.peers()).length === 3)
    expect(largest()).toBe(4)
  })

  it('admits one of four joins made through a member (the service join), and removes it once gone', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3, bounded)
    const leader = await cluster.leader()
    const follower = peers.find((peer) => peer !== leader) as TestPeer
    const largest = largestPeerset(leader)
    const ids = await Promise.all(
      [1, 2, 3, 4].map(async () =>
        peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString(),
      ),
    )
    const results = await Promise.allSettled(ids.map((id) => follower.consensus.addPeer(id)))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    const reasons = results.flatMap((result) =>
      result.status === 'rejected' ? [(result.reason as Error).name] : [],
    )
    expect(reasons).toEqual(['JoinInProgressError', 'JoinInProgressError', 'JoinInProgressError'])
    await eventually(async () => (await leader.consensus.peers()).length === 3)
    expect(largest()).toBe(4)
    // The next join gets in once the first is gone.
    await follower.consensus.addPeer(ids[3] as string)
    expect(await leader.consensus.peers()).toContain(ids[3])
  })

  it('logs every join at warn with the peer ID and its address', async () => {
    cluster = new TestCluster()
    const logger = new RecordingLogger()
    const leader = await cluster.start({ raft: bounded, logger })
    await leader.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    const node = await throwaway(leader)
    expect((await addItself(node, leader)).ok).toBe(true)
    const [line] = logger.find('warn', /a peer is joining the cluster/)
    expect(line?.fields.peerId).toBe(node.peerId.toString())
    expect(line?.fields.addresses).toEqual([
      expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/),
    ])
  })

  it('lets only the peers of join_allow_list join', async () => {
    cluster = new TestCluster()
    const allowedKey = await generateKeyPair('Ed25519')
    const allowed = peerIdFromPrivateKey(allowedKey).toString()
    const raft = { ...bounded, join_allow_list: [allowed] }
    const [member] = await cluster.bootstrap(1, raft)
    if (member === undefined) throw new Error('no member')
    const outsider = await throwaway(member)
    const refused = await addItself(outsider, member)
    expect(refused).toMatchObject({ ok: false, errorName: 'JoinNotAllowedError' })
    expect(refused.ok === false && refused.message).toMatch(/join_allow_list/)
    const joiner = await cluster.start({ key: allowedKey, staging: true, raft })
    await member.consensus.addPeer(joiner.id)
    await joiner.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    expect(await member.consensus.peers()).toEqual([member.id, allowed].sort())
  })
})

describe('a voter whose Raft data was wiped (issue 17)', () => {
  it.each(['itself', 'a member on its behalf (the service join)'])(
    'rejoins as staging when %s asks, gets every pin from a snapshot, and votes again',
    async (asker) => {
      cluster = new TestCluster()
      const raft = { snapshot_threshold: 16, trailing_logs: 4 }
      const peers = await cluster.bootstrap(3, raft)
      const leader = await cluster.leader()
      const victim = peers.find((peer) => peer !== leader) as TestPeer
      const cids = await Promise.all(Array.from({ length: 100 }, (_, i) => cidFor(`wiped ${i}`)))
      for (const cid of cids) await leader.consensus.logPin({ cid })
      await eventually(() => victim.consensus.state().count() === 100)
      await cluster.stop(victim)
      // `pinraft state cleanup`: the data goes to a backup, the folder starts empty.
      await cleanupOfflineState(
        resolveRaftConfiguration({ ...fastRaft, ...raft }, { dataFolder: `${victim.folder}/raft` }),
      )
      const logger = new RecordingLogger()
      const again = await cluster.start({
        key: victim.key,
        folder: victim.folder,
        staging: true,
        raft,
        logger,
      })
      expect(again.consensus.status().freshState).toBe(true)
      const third = peers.find((peer) => peer !== leader && peer !== victim) as TestPeer
      // As `daemon --bootstrap` does: it asks to be added, saying it has no state.
      if (asker === 'itself') await again.consensus.addPeer(again.id)
      else await third.consensus.addPeer(again.id, { freshState: true })
      await again.consensus.ready({ signal: AbortSignal.timeout(20_000) })
      expect(cids.every((cid) => again.consensus.state().has(cid))).toBe(true)
      expect(again.consensus.status().voters).toContain(again.id)
      expect(again.consensus.status().freshState).toBe(false)
      const [received] = logger.find('debug', /snapshot received/)
      expect(received?.fields.bytes).toBeGreaterThan(0)
      expect(leader.consensus.status().snapshotsSent).toBeGreaterThan(0)
      // It counts in the quorum again: with the third peer stopped, the two commit.
      await cluster.stop(third)
      const cid = await cidFor('after the rejoin')
      await again.consensus.logPin({ cid })
      expect(leader.consensus.state().has(cid)).toBe(true)
    },
  )

  it('replays its own removal and addition without announcing that it was removed', async () => {
    cluster = new TestCluster()
    // No snapshot: the rejoining peer gets the whole log, its removal and addition included.
    const peers = await cluster.bootstrap(3)
    const leader = await cluster.leader()
    const victim = peers.find((peer) => peer !== leader) as TestPeer
    for (let i = 0; i < 10; i++) await leader.consensus.logPin({ cid: await cidFor(`log ${i}`) })
    await cluster.stop(victim)
    await cleanupOfflineState(
      resolveRaftConfiguration(fastRaft, { dataFolder: `${victim.folder}/raft` }),
    )
    const again = await cluster.start({ key: victim.key, folder: victim.folder, staging: true })
    const removed: string[] = []
    again.consensus.addEventListener('peer:remove', (event) => removed.push(event.detail.peerId))
    await again.consensus.addPeer(again.id)
    await again.consensus.ready({ signal: AbortSignal.timeout(20_000) })
    expect(again.consensus.state().count()).toBe(10)
    expect(removed).toEqual([])
    expect(await again.consensus.peers()).toContain(again.id)
  })

  it('withholds its vote until it has caught up, so an entry committed with it survives', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    const leader = await cluster.leader()
    const [behind, wiped] = peers.filter((peer) => peer !== leader) as [TestPeer, TestPeer]
    await cluster.stop(behind)
    // Committed on the leader and `wiped` only.
    const committed = await cidFor('committed by two')
    await leader.consensus.logPin({ cid: committed })
    await cluster.stop(wiped)
    await cluster.stop(leader)
    await cleanupOfflineState(
      resolveRaftConfiguration(fastRaft, { dataFolder: `${wiped.folder}/raft` }),
    )
    const behindAgain = await cluster.start({ key: behind.key, folder: behind.folder })
    const logger = new RecordingLogger()
    const wipedAgain = await cluster.start({
      key: wiped.key,
      folder: wiped.folder,
      staging: true,
      logger,
    })
    // `behind` campaigns; with the wiped peer's vote it would win without the committed pin.
    await eventually(
      () =>
        logger.find('info', /withholding this peer's vote/).length > 0 ||
        behindAgain.consensus.status().role === 'leader',
    )
    expect(behindAgain.consensus.status().role).not.toBe('leader')
    expect(behindAgain.consensus.status().waitingFor).toMatch(/^a leader: none known/)
    const leaderAgain = await cluster.start({ key: leader.key, folder: leader.folder })
    await wipedAgain.consensus.addPeer(wipedAgain.id)
    await wipedAgain.consensus.ready({ signal: AbortSignal.timeout(20_000) })
    for (const peer of [leaderAgain, behindAgain, wipedAgain]) {
      await eventually(() => peer.consensus.state().has(committed))
    }
  })
})
