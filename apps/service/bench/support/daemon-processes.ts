import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initializeFolder } from '../../src/config/initialize.ts'
import { freePort } from '../../test/support/processes.ts'

export const binPath = fileURLToPath(new URL('../../bin/pinraft.js', import.meta.url))

/** One `pinraft daemon` process of a benchmark, with its default configuration. */
export interface BenchPeer {
  readonly name: string
  readonly folder: string
  readonly peerId: string
  readonly clusterPort: number
  readonly apiUrl: string
  readonly environment: NodeJS.ProcessEnv
  child?: ChildProcess
  exited?: Promise<number | null>
  /** Log lines the running process wrote (stderr), counted, the last ones kept. */
  logLines: number
  logTail: string
}

/**
 * Initializes `count` configuration folders under `root` sharing one secret; only the addresses
 * differ from the defaults (ports on 127.0.0.1, as three peers share one machine).
 * `extraEnvironment` is added to every peer's environment (`NODE_OPTIONS` for a profile).
 */
export async function createPeers(
  root: string,
  count: number,
  extraEnvironment: NodeJS.ProcessEnv = {},
): Promise<BenchPeer[]> {
  const secret = randomBytes(32).toString('hex')
  const peers: BenchPeer[] = []
  for (let index = 0; index < count; index++) {
    const name = `peer${index + 1}`
    const folder = join(root, name)
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const { peerId } = await initializeFolder({ folder, peers: [], force: false, secret })
    peers.push({
      name,
      folder,
      peerId,
      clusterPort,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      environment: {
        PATH: process.env.PATH,
        HOME: root,
        PINRAFT_CLUSTER_PEERNAME: name,
        PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
        PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
        PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
        ...extraEnvironment,
      },
      logLines: 0,
      logTail: '',
    })
  }
  return peers
}

export function clusterAddress(peer: BenchPeer): string {
  return `/ip4/127.0.0.1/tcp/${peer.clusterPort}/p2p/${peer.peerId}`
}

/** Starts `pinraft daemon` (with `args`, such as `--bootstrap <address>`) for `peer`. */
export function startPeer(peer: BenchPeer, args: string[] = []): void {
  const child = spawn(process.execPath, [binPath, '--config', peer.folder, 'daemon', ...args], {
    env: peer.environment,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  peer.logLines = 0
  peer.logTail = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) peer.logLines++
    peer.logTail = (peer.logTail + chunk.toString()).slice(-8000)
  })
  peer.child = child
  peer.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1)))
  })
}

/** SIGTERM (a clean stop), SIGKILL after `timeout` ms. */
export async function stopPeer(peer: BenchPeer, timeout = 30_000): Promise<void> {
  if (peer.child === undefined || peer.exited === undefined) return
  peer.child.kill('SIGTERM')
  const timer = setTimeout(() => peer.child?.kill('SIGKILL'), timeout)
  await peer.exited
  clearTimeout(timer)
  peer.child = undefined
  peer.exited = undefined
}

export async function metric(peer: BenchPeer, name: string): Promise<number | undefined> {
  const response = await fetch(`${peer.apiUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

/** Polls `GET /health/ready` until 204 (every 20 ms, at most `timeout` ms); answers the ms waited. */
export async function waitReady(peer: BenchPeer, timeout: number): Promise<number> {
  const began = performance.now()
  const deadline = began + timeout
  while (performance.now() < deadline) {
    if (peer.exited !== undefined && peer.child?.exitCode !== null)
      throw new Error(`${peer.name} exited before it was ready:\n${peer.logTail}`)
    try {
      const response = await fetch(`${peer.apiUrl}/health/ready`, {
        signal: AbortSignal.timeout(2000),
      })
      await response.arrayBuffer()
      if (response.status === 204) return performance.now() - began
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`${peer.name} was not ready within ${timeout} ms:\n${peer.logTail}`)
}

/** The peer that reports itself leader (bounded: 15 s). */
export async function leaderOf(peers: BenchPeer[]): Promise<BenchPeer> {
  const deadline = performance.now() + 15_000
  while (performance.now() < deadline) {
    for (const peer of peers) {
      if ((await metric(peer, 'pinraft_raft_leader').catch(() => 0)) === 1) return peer
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('no leader within 15 s')
}
