import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { makeConfiguration } from '@pinraft/raft-core'
import { afterEach, describe, expect, it } from 'vitest'
import { type WaitingInput, waitingFor } from '../src/status/waiting-for.ts'
import { cidFor, eventually, RecordingLogger, TestCluster, type TestPeer } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

const base: WaitingInput = {
  peerId: 'me',
  failure: undefined,
  shutDown: false,
  ready: false,
  leader: 'l',
  term: 3,
  configuration: makeConfiguration({ voters: ['l', 'me', 'o'] }),
  appliedIndex: 5,
  commitIndex: 9,
  lastIndex: 7,
  incomingSnapshot: undefined,
  damagedSnapshot: null,
}

describe('what a peer that is not ready waits for', () => {
  it('names each wait with its numbers and likely causes', () => {
    expect(waitingFor({ ...base, configuration: makeConfiguration({}) })?.reason).toMatch(
      /^to be added to the cluster: no leader has added this peer \(me\) yet \(likely causes: .*unreachable --bootstrap peer.*cluster secret/,
    )
    expect(
      waitingFor({ ...base, configuration: makeConfiguration({ voters: ['l', 'o'] }) })?.reason,
    ).toMatch(
      /not in the peerset \(l, o\), it was removed; rejoin with `pinraft daemon --bootstrap/,
    )
    expect(waitingFor({ ...base, leader: null })).toEqual({
      kind: 'leader',
      reason: expect.stringMatching(
        /^a leader: none known in term 3; the voters are l, me, o \(likely causes: fewer than a majority/,
      ),
    })
    expect(
      waitingFor({ ...base, configuration: makeConfiguration({ voters: ['l'], staging: ['me'] }) })
        ?.reason,
    ).toBe('to catch up with the leader l and be promoted to voter: index 5 of 9 applied')
    expect(waitingFor(base)?.reason).toBe('to catch up with the leader l: index 5 of 9 applied')
    expect(
      waitingFor({ ...base, incomingSnapshot: { from: 'l', index: 40, bytes: 1234 } })?.reason,
    ).toBe('to catch up: receiving a snapshot of index 40 from l (1234 bytes so far)')
    expect(
      waitingFor({
        ...base,
        ready: true,
        damagedSnapshot: { folder: '/x/2-8-ab', reason: 'bad', index: 8, startsFrom: 4 },
      })?.reason,
    ).toMatch(/^to catch up past the damaged snapshot \/x\/2-8-ab \(index 8\): index 5 applied/)
    expect(waitingFor({ ...base, failure: new Error('disk full') })?.reason).toMatch(
      /^a restart: Raft stopped after a storage failure \(disk full\)/,
    )
  })

  it('is nothing once ready with a leader, and a leader again when it loses it', () => {
    expect(waitingFor({ ...base, ready: true })).toBeNull()
    expect(waitingFor({ ...base, ready: true, leader: null })?.kind).toBe('leader')
  })
})

describe('a stuck peer says so (issue 17)', () => {
  it('logs every few seconds that it waits to be added when nobody adds it', async () => {
    cluster = new TestCluster()
    const logger = new RecordingLogger()
    const peer = await cluster.start({ staging: true, logger, progressLogInterval: 300 })
    await eventually(() => logger.find('warn', /^not ready: waiting to be added/).length >= 2)
    expect(peer.consensus.status().waitingFor).toMatch(/^to be added to the cluster/)
    expect(logger.find('warn', /^not ready/)[0]?.message).toMatch(/cluster secret/)
  })

  it('logs that it waits for a leader when it runs without a majority, and reports it in status', async () => {
    cluster = new TestCluster()
    const peers = await cluster.bootstrap(3)
    for (const peer of peers) await cluster.stop(peer)
    const [first] = peers as [TestPeer]
    const logger = new RecordingLogger()
    const alone = await cluster.start({
      key: first.key,
      folder: first.folder,
      logger,
      progressLogInterval: 300,
    })
    await eventually(() => logger.find('warn', /^not ready: waiting for a leader/).length >= 1)
    expect(alone.consensus.status().waitingFor).toMatch(/^a leader: none known/)
    expect(alone.consensus.status().ready).toBe(false)
  })

  it('logs leader changes, an unreachable member once, elections and forwarding at debug, no pin at info', async () => {
    cluster = new TestCluster()
    const keys = await Promise.all([1, 2, 3].map(() => generateKeyPair('Ed25519')))
    const ids = keys.map((key) => peerIdFromPrivateKey(key).toString())
    const loggers = new Map<string, RecordingLogger>()
    const peers: TestPeer[] = []
    for (const key of keys) {
      const logger = new RecordingLogger()
      const peer = await cluster.start({ key, initPeerset: ids, logger })
      loggers.set(peer.id, logger)
      peers.push(peer)
    }
    await Promise.all(peers.map((peer) => peer.consensus.ready()))
    const leader = await cluster.leader()
    const followers = peers.filter((peer) => peer !== leader)
    const follower = followers[0] as TestPeer
    const followerLog = loggers.get(follower.id) as RecordingLogger
    // The latest line names the leader, even when changes came faster than one a second.
    await eventually(
      () => followerLog.find('info', /^new leader$/).at(-1)?.fields.leader === leader.id,
    )
    const quiet = await Promise.all(Array.from({ length: 20 }, (_, i) => cidFor(`quiet ${i}`)))
    for (const cid of quiet) await follower.consensus.logPin({ cid, name: `name-${cid}` })
    // No line at info or above names a pin.
    const text = JSON.stringify(
      [...loggers.values()].flatMap((logger) =>
        logger.lines.filter((line) => line.level !== 'debug'),
      ),
    )
    for (const cid of quiet) expect(text).not.toContain(cid)
    expect(followerLog.find('debug', /^forwarding to the leader$/).length).toBeGreaterThan(0)
    await eventually(() => follower.consensus.status().waitingFor === null)
    await cluster.stop(leader)
    const next = await eventually(async () => {
      const status = follower.consensus.status()
      return status.leader !== null && status.leader !== leader.id
    }).then(() => cluster.leader())
    const nextLog = loggers.get(next.id) as RecordingLogger
    // The election, at debug: the new leader went through candidacy (the line follows once the
    // Ready that made it leader is durable, which may be just after its role is visible).
    await eventually(() =>
      nextLog.find('debug', /^Raft role changed$/).some((line) => line.fields.role === 'leader'),
    )
    await eventually(() => nextLog.find('warn', /^cannot reach a member/).length > 0)
    const unreachable = nextLog.find('warn', /^cannot reach a member/)
    expect(unreachable[0]?.fields.peer).toBe(leader.id)
    // Rate-limited: one line per peer in 30 s however many messages are dropped.
    for (let i = 0; i < 5; i++) await next.consensus.logPin({ cid: await cidFor(`more ${i}`) })
    expect(nextLog.find('warn', /^cannot reach a member/)).toHaveLength(1)
  })
})
