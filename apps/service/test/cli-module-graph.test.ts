import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  initTestCluster,
  removeTestCluster,
  runPinraft,
  startPeer,
  stopPeer,
  type TestPeer,
  waitPeerReady,
} from './support/processes.ts'

/**
 * Only `pinraft daemon` runs an IPFS node: the other commands must not load Helia and libp2p's
 * transports (some 250 packages), which tripled their start and, in `state import` of a million
 * pins, put the garbage collector in a mode that kept a fifth of each young generation alive.
 * The daemon runs one, built from Helia's light entry points: the modules of createHelia's and
 * libp2pDefaults' features (about 900, a second of every start) stay out, and so do those of
 * the routing an operator turns on (the DHT, delegated routing) until they do.
 */

const recorder = fileURLToPath(new URL('./support/record-modules.ts', import.meta.url))
let root: string
let folder: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-module-graph-'))
  folder = join(root, 'peer')
  const init = await runPinraft(['--config', folder, 'init'], { ...process.env, HOME: root })
  expect(init.code, init.stderr).toBe(0)
  await writeFile(join(root, 'empty.json'), '')
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

let runs = 0

async function modulesOf(args: string[]): Promise<string[]> {
  const list = join(root, `modules-${++runs}.txt`)
  const result = await runPinraft(['--config', folder, ...args], {
    ...process.env,
    HOME: root,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${recorder}`.trim(),
    PINRAFT_TEST_MODULES: list,
  })
  expect(result.code, result.stderr).toBe(0)
  return (await readFile(list, 'utf8')).split('\n')
}

const ipfsNode = (url: string) => /\/node_modules\/(helia|@helia\/[^/]+|libp2p)\//.test(url)

describe('the commands an operator runs beside the daemon', () => {
  it.each([['state export'], ['state import --force empty.json'], ['--help']])(
    '%s does not load the IPFS node',
    async (command) => {
      const args = command.split(' ').map((arg) => (arg.endsWith('.json') ? join(root, arg) : arg))
      const modules = await modulesOf(args)
      // The recorder saw the command's own modules, so an empty list cannot pass.
      expect(modules.some((url) => url.endsWith('/src/cli/state.ts'))).toBe(true)
      expect(modules.some((url) => url.includes('/node_modules/commander/'))).toBe(true)
      expect(modules.filter(ipfsNode)).toEqual([])
    },
  )
})

/** Packages only createHelia, libp2pDefaults or opt-in routing bring in. */
const unusedByTheDaemon =
  /\/node_modules\/(@helia\/(http|routers|delegated-routing-v1-http-api-client)|@libp2p\/(webrtc|upnp-nat|kad-dht|autonat|mdns|bootstrap|circuit-relay-v2|websockets|webtransport)|@ipshipyard\/libp2p-auto-tls|node-datachannel)\//

describe('the daemon', () => {
  let daemonRoot: string | undefined
  let peers: TestPeer[] = []

  afterAll(async () => {
    await removeTestCluster(daemonRoot, peers)
  })

  it("runs its IPFS node without the modules of Helia's defaults", async () => {
    const list = join(root, 'modules-daemon.txt')
    ;({ root: daemonRoot, peers } = await initTestCluster('pinraft-module-graph-daemon-', {
      names: ['solo'],
      environment: () => ({
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${recorder}`.trim(),
        PINRAFT_TEST_MODULES: list,
      }),
    }))
    const peer = peers[0]!
    startPeer(peer)
    await waitPeerReady(peer)
    expect(await stopPeer(peer)).toBe(0)
    const modules = (await readFile(list, 'utf8')).split('\n')
    expect(modules.some((url) => /\/node_modules\/helia\//.test(url))).toBe(true)
    expect(modules.some((url) => /\/node_modules\/@helia\/bitswap\//.test(url))).toBe(true)
    expect(modules.filter((url) => unusedByTheDaemon.test(url))).toEqual([])
  })
})
