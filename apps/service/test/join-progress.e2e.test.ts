import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { pinToClusterJson, validatePin } from '@pinraft/state-pinset'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cidFor,
  clusterAddress,
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startPeer,
  type TestPeer,
  waitPeerReady,
} from './support/processes.ts'

/**
 * A peer joining a cluster whose pinset is large says, while it catches up, what it waits for and
 * how far it got (issue 17: "index x of y"): the daemon's join progress and consensus's
 * not-ready line, every 5 s. The pinset is big enough that catching up takes longer than that
 * even on a quiet machine (a join of 100,000 pins takes 2 to 3.6 s there).
 */

const pinCount = 500_000
let root = ''
let peers: TestPeer[] = []

interface LogLine {
  msg?: string
  [field: string]: unknown
}

function logLines(peer: TestPeer): LogLine[] {
  return (peer.daemon?.output() ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
}

beforeAll(async () => {
  // `elsewhere` never starts: the pins are allocated to it, so neither running peer tries to pin
  // 500,000 CIDs nobody holds (they are `remote` to both).
  const cluster = await initTestCluster('pinraft-join-e2e-', {
    names: ['leader', 'joiner', 'elsewhere'],
  })
  root = cluster.root
  peers = cluster.peers
  const [leader, , elsewhere] = peers as [TestPeer, TestPeer, TestPeer]
  const file = join(root, 'pins.json')
  const output = createWriteStream(file)
  for (let index = 0; index < pinCount; index++) {
    const line = `${pinToClusterJson(
      validatePin({
        cid: await cidFor(index),
        name: `pin ${index}`,
        allocations: [elsewhere.peerId],
        replicationFactorMin: 1,
        replicationFactorMax: 1,
      }),
    )}\n`
    if (!output.write(line)) await once(output, 'drain')
  }
  output.end()
  await once(output, 'finish')
  const imported = await runPinraft(
    ['--config', leader.folder, 'state', 'import', file, '--force'],
    leader.environment,
    300_000,
  )
  expect(imported.code, imported.stderr).toBe(0)
  startPeer(leader)
  await waitPeerReady(leader, 180_000)
}, 600_000)

afterAll(async () => {
  await removeTestCluster(root, peers)
})

describe('a peer joining a large pinset', () => {
  it('logs what it waits for and how far it got (index x of y) until it is ready', async () => {
    const [leader, joiner] = peers as [TestPeer, TestPeer, TestPeer]
    startPeer(joiner, ['--bootstrap', clusterAddress(leader), '--join-timeout', '5m'])
    await waitPeerReady(joiner, 300_000)
    const lines = logLines(joiner)
    const messages = lines.map((line) => line.msg ?? '')
    expect(messages).toContain('added to the cluster; catching up with the leader')
    const dump = `the joiner's log:\n${messages.join('\n')}`
    // The daemon's join progress: applied index of the leader's commit index, and pins so far.
    const progress = lines.filter((line) =>
      /^catching up with the leader: applied \d+ of \d+ \(\d+ pins so far\)$/.test(line.msg ?? ''),
    )
    // Consensus's own lines while not ready: what it waits for (to be added, a leader, a
    // snapshot, to catch up: index x of y), with the likely causes.
    const waiting = lines.filter((line) => (line.msg ?? '').startsWith('not ready: waiting '))
    for (const line of progress) {
      expect(line).toMatchObject({
        appliedIndex: expect.any(Number),
        commitIndex: expect.any(Number),
        pins: expect.any(Number),
      })
      expect(line.appliedIndex as number, dump).toBeLessThanOrEqual(line.commitIndex as number)
    }
    for (const line of waiting) expect(line.waitingFor, dump).toEqual(expect.any(String))
    // How far it got, in numbers, at least once while it caught up.
    const numbered = [...progress, ...waiting].filter((line) =>
      /(applied|index) \d+ of \d+/.test(line.msg ?? ''),
    )
    expect(numbered.length, dump).toBeGreaterThan(0)
  }, 400_000)
})
