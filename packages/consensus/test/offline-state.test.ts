import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeConfiguration } from '@pinraft/raft-core'
import { openRaftStorage } from '@pinraft/raft-level'
import { afterEach, describe, expect, it } from 'vitest'
import {
  cleanupOfflineState,
  exportOfflineState,
  importOfflineState,
  resolveRaftConfiguration,
} from '../src/index.ts'
import { cidFor, fastRaft, TestCluster } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = []
  for await (const item of items) result.push(item)
  return result
}

describe('offline state management', () => {
  it('exports the pins of a stopped peer, including those after its last snapshot', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    const cids = await Promise.all([1, 2, 3].map((i) => cidFor(`offline ${i}`)))
    for (const cid of cids) await peer.consensus.logPin({ cid, name: cid.slice(-4) })
    await cluster.stop(peer)
    const configuration = resolveRaftConfiguration(fastRaft, {
      dataFolder: join(peer.folder, 'raft'),
    })
    const exported = await collect(exportOfflineState(configuration))
    expect(exported.map((pin) => pin.cid.toString()).sort()).toEqual([...cids].sort())
  })

  it('imports a pinset that replaces the old one when the peer restarts, keeping a backup', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    await peer.consensus.logPin({ cid: await cidFor('old') })
    await cluster.stop(peer)
    const configuration = resolveRaftConfiguration(fastRaft, {
      dataFolder: join(peer.folder, 'raft'),
    })
    const fresh = await Promise.all([1, 2].map((i) => cidFor(`new ${i}`)))
    expect(
      await importOfflineState(
        configuration,
        fresh.map((cid) => ({ cid })),
      ),
    ).toBe(2)
    const restarted = await cluster.start({ key: peer.key, folder: peer.folder })
    await restarted.consensus.ready({ signal: AbortSignal.timeout(10_000) })
    expect(restarted.consensus.state().count()).toBe(2)
    for (const cid of fresh) expect(restarted.consensus.state().has(cid)).toBe(true)
    // The cluster still works on the imported state.
    await restarted.consensus.logPin({ cid: await cidFor('after import') })
    expect(restarted.consensus.state().count()).toBe(3)
  })

  it('takes the peers of the state it replaces without reading its pins', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pinraft-offline-'))
    try {
      const dataFolder = join(folder, 'raft')
      const peers = makeConfiguration({ voters: ['peer-a', 'peer-b', 'peer-c'] })
      // The old state's pinset is one this build cannot read (a newer snapshot format):
      // reading it would fail the import, which needs only its peers.
      const storage = await openRaftStorage({ directory: dataFolder })
      const sink = await storage.snapshotStore.create({ index: 7, term: 3, configuration: peers })
      await sink.write(new Uint8Array([...new TextEncoder().encode('PRPINSET'), 0x00, 0x63]))
      await sink.close()
      await storage.stableStore.save({ term: 3, vote: null, commit: 7 })
      await storage.close()

      const configuration = resolveRaftConfiguration(fastRaft, { dataFolder })
      expect(await importOfflineState(configuration, [{ cid: await cidFor('imported') }])).toBe(1)
      const after = await openRaftStorage({ directory: dataFolder })
      try {
        const [newest] = await after.snapshotStore.list()
        expect(newest?.configuration.voters).toEqual(peers.voters)
      } finally {
        await after.close()
      }
      const exported = await collect(exportOfflineState(configuration))
      expect(exported.map((pin) => pin.cid.toString())).toEqual([await cidFor('imported')])
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('refuses an import with a bad pin and changes nothing', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    const kept = await cidFor('kept')
    await peer.consensus.logPin({ cid: kept })
    await cluster.stop(peer)
    const configuration = resolveRaftConfiguration(fastRaft, {
      dataFolder: join(peer.folder, 'raft'),
    })
    const error = await importOfflineState(configuration, [
      { cid: await cidFor('ok') },
      { cid: 'not-a-cid' },
    ]).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/pin 2 cannot be imported/)
    const exported = await collect(exportOfflineState(configuration))
    expect(exported.map((pin) => pin.cid.toString())).toEqual([kept])
  })

  it('cleans up the Raft data into a rotated backup', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.bootstrap(1)
    if (peer === undefined) throw new Error('no peer')
    await cluster.stop(peer)
    const configuration = resolveRaftConfiguration(fastRaft, {
      dataFolder: join(peer.folder, 'raft'),
    })
    expect(await cleanupOfflineState(configuration)).toBe(join(peer.folder, 'raft.old.0'))
    expect(await collect(exportOfflineState(configuration))).toEqual([])
  })
})
