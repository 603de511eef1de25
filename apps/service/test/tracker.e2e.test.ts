import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createEmbeddedConnector, resolveEmbeddedConfiguration } from '@pinraft/ipfs-connector'
import { type FakeKubo, startFakeKubo } from '@pinraft/ipfs-connector/testing'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GlobalPinInfoJson } from '../src/client/status-client.ts'
import {
  apiHost,
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startPeer,
  startTestCluster,
  stopPeer,
  type TestPeer,
  waitFor,
  waitPeerReady,
} from './support/processes.ts'

/**
 * The pin tracker of three real `pinraft daemon` processes on 127.0.0.1: alpha and gamma with
 * their embedded IPFS node, beta with the Kubo connector (`init --ipfs-api`) against the Kubo RPC
 * server of @pinraft/ipfs-connector/testing, so that a pin can be removed from beta's IPFS node
 * behind the tracker's back while it runs (`pin/rm` straight to its RPC API, as `ipfs pin rm`
 * would). Gamma loses a pin the other real way: stopped, its embedded node opened offline and
 * edited. The steps build on each other, so the tests run in order; every status is read through
 * the API (`GET /pins/{cid}`) or `pinraft status`, never from the tracker's inside.
 */

let root: string | undefined
let peers: TestPeer[] = []
let kubo: FakeKubo
let file = ''
/** Content added on alpha: pinned everywhere from the first test on. */
let added = ''
/** A raw block nobody holds until the stopped-peer test puts it on gamma's node. */
const missingBytes = randomBytes(1024)
let missing = ''

const peer = (name: string): TestPeer => peers.find((each) => each.name === name)!

/** The cluster-wide status of `cid` from `via`'s API (`GET /pins/{cid}`). */
async function globalStatus(via: TestPeer, cid: string): Promise<GlobalPinInfoJson> {
  const response = await fetch(`http://127.0.0.1:${via.apiPort}/pins/${cid}`)
  if (response.status !== 200) throw new Error(`GET /pins/${cid}: ${await response.text()}`)
  return (await response.json()) as GlobalPinInfoJson
}

/** The same through the CLI, as an operator reads it (`pinraft status <cid> --enc json`). */
async function cliStatus(via: TestPeer, cid: string): Promise<GlobalPinInfoJson> {
  const result = await runPinraft(
    ['status', cid, '--enc', 'json', '--host', apiHost(via)],
    via.environment,
  )
  if (result.code !== 0) throw new Error(`pinraft status ${cid} failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as GlobalPinInfoJson
}

/** Each peer's status (by name) in a GlobalPinInfo. */
function statuses(global: GlobalPinInfoJson): Record<string, string> {
  const byName: Record<string, string> = {}
  for (const [id, entry] of Object.entries(global.peer_map)) {
    byName[peers.find((each) => each.peerId === id)?.name ?? id] = entry.status
  }
  return byName
}

function entryOf(global: GlobalPinInfoJson, name: string) {
  const entry = global.peer_map[peer(name).peerId]
  if (entry === undefined) throw new Error(`no entry for ${name} in ${JSON.stringify(global)}`)
  return entry
}

/** Waits (bounded) until the global status of `cid` through `via` is `expected` for each peer. */
async function waitStatuses(
  via: TestPeer,
  cid: string,
  expected: Record<string, string>,
  timeout = 30_000,
): Promise<GlobalPinInfoJson> {
  let last: GlobalPinInfoJson | undefined
  try {
    return await waitFor(
      `${cid} to be ${JSON.stringify(expected)}`,
      async () => {
        last = await globalStatus(via, cid)
        const seen = statuses(last)
        return Object.entries(expected).every(([name, status]) => seen[name] === status)
          ? last
          : undefined
      },
      timeout,
      250,
    )
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nlast: ${JSON.stringify(last)}\n${peers.map((each) => `--- ${each.name}\n${each.daemon?.output().slice(-2500) ?? '(stopped)'}`).join('\n')}`,
    )
  }
}

const everywhere = (status: string) => ({ alpha: status, beta: status, gamma: status })

beforeAll(async () => {
  kubo = await startFakeKubo()
  const cluster = await initTestCluster('pinraft-tracker-e2e-', {
    environment: (name) =>
      name === 'beta'
        ? {
            PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: undefined,
            PINRAFT_IPFS_CONNECTOR_EMBEDDED_CONNECT_SWARMS_DELAY: undefined,
            PINRAFT_IPFS_CONNECTOR_IPFSHTTP_CONNECT_SWARMS_DELAY: '0s',
            // Short, so that a CID nobody holds fails within the test.
            PINRAFT_IPFS_CONNECTOR_IPFSHTTP_PIN_TIMEOUT: '5s',
          }
        : { PINRAFT_IPFS_CONNECTOR_EMBEDDED_PIN_TIMEOUT: '5s' },
    init: (name) => (name === 'beta' ? ['--ipfs-api', kubo.multiaddress] : []),
  })
  root = cluster.root
  peers = cluster.peers
  file = join(root, 'tracked.bin')
  await writeFile(file, randomBytes(300 * 1024))
  missing = CID.create(1, raw.code, await sha256.digest(missingBytes)).toString()
  await startTestCluster(peers)
}, 120_000)

afterAll(async () => {
  await removeTestCluster(root, peers)
  await kubo?.close()
})

describe('the pin tracker of three pinraft daemons', { timeout: 120_000 }, () => {
  it('pins content added on alpha on every peer, as GET /pins/{cid} on gamma reports', async () => {
    const alpha = peer('alpha')
    const result = await runPinraft(
      ['add', file, '--name', 'tracked', '--enc', 'json', '--host', apiHost(alpha)],
      alpha.environment,
      60_000,
    )
    expect(result.code, result.stderr).toBe(0)
    added = (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { cid: string }).cid
    await waitStatuses(peer('gamma'), added, everywhere('pinned'))
    const response = await fetch(`http://127.0.0.1:${peer('gamma').apiPort}/pins/${added}`)
    expect(response.status).toBe(200)
    const global = (await response.json()) as GlobalPinInfoJson
    expect(global).toMatchObject({ cid: added, name: 'tracked' })
    expect(Object.keys(global.peer_map).sort()).toEqual(peers.map((each) => each.peerId).sort())
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(entryOf(global, name)).toMatchObject({ peername: name, status: 'pinned', error: '' })
    }
    expect(kubo.pins.get(added)).toBe('recursive')
  })

  it('shows a pin removed from beta’s IPFS node behind its back as unexpectedly_unpinned; recover pins it again', async () => {
    const [alpha, beta] = [peer('alpha'), peer('beta')]
    const removed = await fetch(`${kubo.url}/api/v0/pin/rm?arg=${added}`, { method: 'POST' })
    expect(removed.status).toBe(200)
    expect(kubo.pins.has(added)).toBe(false)
    const lost = await cliStatus(alpha, added)
    expect(statuses(lost)).toEqual({
      alpha: 'pinned',
      beta: 'unexpectedly_unpinned',
      gamma: 'pinned',
    })
    expect(entryOf(lost, 'beta').error).toBe('the item should be pinned but it is not')
    // The local view of beta says the same.
    const local = (await (
      await fetch(`http://127.0.0.1:${beta.apiPort}/pins/${added}?local=true`)
    ).json()) as GlobalPinInfoJson
    expect(entryOf(local, 'beta').status).toBe('unexpectedly_unpinned')

    const recovered = await runPinraft(
      ['recover', added, '--host', apiHost(alpha)],
      alpha.environment,
    )
    expect(recovered.code, recovered.stderr).toBe(0)
    expect(recovered.stdout).toMatch(/> beta +: (PIN_QUEUED|PINNING|PINNED) \|/)
    await waitStatuses(alpha, added, everywhere('pinned'))
    expect(kubo.pins.get(added)).toBe('recursive')
  })

  it('fails a CID nobody holds after pin_timeout with a clear error on every peer', async () => {
    const alpha = peer('alpha')
    // Beta's Kubo, too, finds no provider: its pin/add stalls after one progress line.
    kubo.stallPins = true
    // Through the API, not the CLI: a CLI start-up on a loaded machine can outlast pin_timeout.
    await alpha.client.pin(missing, { name: 'nobody has it' })
    // Every peer takes it up before it fails. The other peers learn the commit with the next
    // Raft message or after commit_timeout (IPFS Cluster's Raft does the same), so for a few
    // milliseconds they may not have it yet; they never skip straight to an error.
    const inProgress = ['pin_queued', 'pinning']
    let early: Record<string, string> = {}
    await waitFor(
      `${missing} to be queued or pinning on every peer`,
      async () => {
        early = statuses(await globalStatus(alpha, missing))
        return ['alpha', 'beta', 'gamma'].every((name) => inProgress.includes(early[name] ?? ''))
          ? early
          : undefined
      },
      3000,
      20,
    )
    for (const name of ['alpha', 'beta', 'gamma']) {
      expect(inProgress, `${name}: ${JSON.stringify(early)}`).toContain(early[name])
    }
    const failed = await waitStatuses(alpha, missing, everywhere('pin_error'))
    for (const name of ['alpha', 'gamma']) {
      expect(entryOf(failed, name).error).toBe(
        `pinning ${missing} made no progress for 5s (ipfs_connector.embedded.pin_timeout): no connected IPFS node sent the next block. Check that a peer holding the content is up and connected (GET /id lists this node's swarm peers), or pass its address as an origin`,
      )
      expect(entryOf(failed, name).attempt_count).toBe(1)
    }
    expect(entryOf(failed, 'beta').error).toContain(
      `pinning ${missing} on Kubo made no progress for 5s (ipfs_connector.ipfshttp.pin_timeout)`,
    )
    const text = await runPinraft(
      ['status', '--filter', 'pin_error', '--host', apiHost(alpha)],
      alpha.environment,
    )
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`${missing} | nobody has it:`)
    expect(text.stdout.match(/: PIN_ERROR: pinning /g)).toHaveLength(3)
  })

  it('shows a stopped peer as cluster_error; restarted, it re-pins what it lost and what it can now fetch', async () => {
    const [alpha, gamma] = [peer('alpha'), peer('gamma')]
    expect(await stopPeer(gamma)).toBe(0)
    const down = await waitStatuses(alpha, added, {
      alpha: 'pinned',
      beta: 'pinned',
      gamma: 'cluster_error',
    })
    expect(entryOf(down, 'gamma').error).not.toBe('')

    // Offline, gamma's IPFS node loses the added content's pin, and the missing block appears
    // on it (stored, not pinned).
    const offline = createEmbeddedConnector({
      configuration: resolveEmbeddedConfiguration({ listen_multiaddress: '/ip4/127.0.0.1/tcp/0' }),
      folder: join(gamma.folder, 'ipfs'),
      privateKey: await generateKeyPair('Ed25519'),
    })
    await offline.start()
    try {
      await offline.unpin(CID.parse(added))
      expect(await offline.pinLsCid(CID.parse(added))).toBe('unpinned')
      await offline.blockPut(CID.parse(missing), missingBytes)
      expect(await offline.pinLsCid(CID.parse(missing))).toBe('unpinned')
    } finally {
      await offline.stop()
    }

    startPeer(gamma)
    await waitPeerReady(gamma)
    // The start-up reconciliation: the lost pin is pinned again, the failed one retried.
    await waitStatuses(alpha, added, everywhere('pinned'))
    await waitStatuses(alpha, missing, { alpha: 'pin_error', beta: 'pin_error', gamma: 'pinned' })
    const attempts = entryOf(await globalStatus(alpha, missing), 'alpha').attempt_count
    expect(attempts).toBe(1)
  })

  it('retries a failed pin on recover, and pins it once the content is on a peer', async () => {
    const alpha = peer('alpha')
    kubo.stallPins = false
    const recovered = await runPinraft(
      ['recover', missing, '--enc', 'json', '--host', apiHost(alpha)],
      alpha.environment,
    )
    expect(recovered.code, recovered.stderr).toBe(0)
    const after = JSON.parse(recovered.stdout) as GlobalPinInfoJson
    expect(['pin_queued', 'pinning', 'pinned']).toContain(entryOf(after, 'alpha').status)
    const pinned = await waitStatuses(alpha, missing, everywhere('pinned'))
    expect(pinned.name).toBe('nobody has it')
    expect(kubo.pins.get(missing)).toBe('recursive')
  })

  it('propagates an unpin to unpinned on every peer', async () => {
    const alpha = peer('alpha')
    for (const cid of [added, missing]) {
      const removed = await runPinraft(
        ['pin', 'rm', cid, '--wait', '--host', apiHost(alpha)],
        alpha.environment,
        60_000,
      )
      expect(removed.code, removed.stderr).toBe(0)
      await waitStatuses(peer('beta'), cid, everywhere('unpinned'))
      expect(kubo.pins.has(cid)).toBe(false)
    }
  })

  it('stops every peer cleanly (exit 0)', async () => {
    for (const each of peers) expect(await stopPeer(each), each.daemon?.output()).toBe(0)
  })
})
