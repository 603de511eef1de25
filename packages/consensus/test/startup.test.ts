import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupOfflineState, importOfflineState, resolveRaftConfiguration } from '../src/index.ts'
import { cidFor, eventually, fastRaft, RecordingLogger, TestCluster } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

async function failure(start: Promise<unknown>): Promise<Error> {
  const error = await start.then(
    () => new Error('it started'),
    (caught: unknown) => caught as Error,
  )
  return error
}

describe('a peer that left its cluster does not start a new one by accident (issue 17)', () => {
  it('refuses to start after `peers rm` cleaned its state, and says how to rejoin', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    const removed = peers[2]
    if (removed === undefined || peers[0] === undefined) throw new Error('no peer')
    await peers[0].consensus.rmPeer(removed.id)
    // It cleans itself (IPFS Cluster does): raft.old.0 holds its state.
    await eventually(async () =>
      stat(join(removed.folder, 'raft.old.0')).then(
        () => true,
        () => false,
      ),
    )
    await cluster.stop(removed)
    const error = await failure(cluster.start({ key: removed.key, folder: removed.folder }))
    expect(error.name).toBe('RemovedFromClusterError')
    expect(error.message).toMatch(/raft\.old\.0/)
    expect(error.message).toMatch(/pinraft daemon --bootstrap <multiaddress of a running member>/)
    expect(error.message).toMatch(/0 pins/)
    // `--bootstrap` (staging) is the way back.
    const back = await cluster.start({ key: removed.key, folder: removed.folder, staging: true })
    await peers[0].consensus.addPeer(back.id)
    await back.consensus.ready({ signal: AbortSignal.timeout(15_000) })
  })

  it('refuses to start after `state cleanup`, unless asked for a new cluster', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    await peer.consensus.logPin({ cid: await cidFor('before cleanup') })
    await cluster.stop(peer)
    await cleanupOfflineState(
      resolveRaftConfiguration(fastRaft, { dataFolder: join(peer.folder, 'raft') }),
    )
    const error = await failure(cluster.start({ key: peer.key, folder: peer.folder }))
    expect(error.name).toBe('RemovedFromClusterError')
    const fresh = await cluster.start({ key: peer.key, folder: peer.folder, newCluster: true })
    await fresh.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    expect(fresh.consensus.state().count()).toBe(0)
    expect(await fresh.consensus.peers()).toEqual([peer.id])
  })

  it('refuses to start on state whose last configuration leaves it out; a new cluster backs it up', async () => {
    cluster = new TestCluster()
    const key = await generateKeyPair('Ed25519')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const folder = await cluster.folder()
    const configuration = resolveRaftConfiguration(fastRaft, { dataFolder: join(folder, 'raft') })
    // State of a cluster this peer is not in (as after a removal it did not get to clean up).
    await importOfflineState(configuration, [{ cid: await cidFor('theirs') }], { peers: [other] })
    const error = await failure(cluster.start({ key, folder }))
    expect(error.name).toBe('RemovedFromClusterError')
    expect(error.message).toContain(`is not in the peerset its Raft state ends with (${other})`)
    const logger = new RecordingLogger()
    const started = await cluster.start({ key, folder, newCluster: true, logger })
    await started.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    expect(await started.consensus.peers()).toEqual([started.id])
    expect(started.consensus.state().count()).toBe(0)
    const [line] = logger.find(
      'warn',
      /starting a new cluster as asked; the old state was backed up/,
    )
    expect(line?.fields.backup).toBe(join(folder, 'raft.old.0'))
  })
})

describe('a damaged newest snapshot (issue 13 §3)', () => {
  it('is named at error level, and the peer is ready only once caught up with a leader', async () => {
    cluster = new TestCluster()
    const raft = { snapshot_threshold: 8, trailing_logs: 16 }
    const peers = await cluster.bootstrap(3, raft)
    const leader = await cluster.leader()
    const victim = peers.find((peer) => peer !== leader)
    if (victim === undefined) throw new Error('no follower')
    const cids = await Promise.all(Array.from({ length: 40 }, (_, i) => cidFor(`snap ${i}`)))
    for (const cid of cids.slice(0, 30)) await leader.consensus.logPin({ cid })
    await eventually(() => victim.consensus.state().count() === 30)
    await cluster.stop(victim)
    const snapshots = join(victim.folder, 'raft', 'snapshots')
    const folders = (await readdir(snapshots)).sort(
      (a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]),
    )
    const newest = folders[0] as string
    expect(folders.length).toBeGreaterThan(1)
    const state = join(snapshots, newest, 'state.bin')
    const bytes = await readFile(state)
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff
    await writeFile(state, bytes)
    // More pins while it is away, so the leader is ahead.
    for (const cid of cids.slice(30)) await leader.consensus.logPin({ cid })
    const logger = new RecordingLogger()
    const again = await cluster.start({ key: victim.key, folder: victim.folder, raft, logger })
    // raft-level's store names the damage too; this is consensus's line, which says what follows.
    const [line] = logger.find('error', /serves an older pinset/)
    expect(line?.message).toContain(join(snapshots, newest))
    expect(line?.message).toMatch(/serves an older pinset until it has caught up with a leader/)
    let countAtReady = -1
    again.consensus.addEventListener('ready', () => {
      countAtReady = again.consensus.state().count()
    })
    await again.consensus.ready({ signal: AbortSignal.timeout(15_000) })
    expect(countAtReady).toBe(40)
  })
})
