import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { ApiClient } from '../../src/client/api-client.ts'

export const binPath = fileURLToPath(new URL('../../bin/pinraft.js', import.meta.url))

/** Ports this test process handed out: never handed out twice. */
const handedOut = new Set<number>()

/**
 * The lowest port of the kernel's ephemeral range (what `listen(0)` and outgoing connections
 * take): ports below it are never given to another socket behind our back.
 */
function ephemeralFloor(): number {
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    const low = Number(range.trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 12_000 ? low : 32_768
  } catch {
    return 32_768
  }
}

const portFloor = 10_000
const portCeiling = ephemeralFloor()

/** Whether nothing listens on `port` of 127.0.0.1 right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A loopback port nothing listens on, and one this process has not handed out before (two
 * peers of one test were once given the same port, the second daemon then failing to start).
 * It is taken below the kernel's ephemeral range: a port the OS picked (`listen(0)`) was once
 * taken, between this call and the daemon's start, by another daemon's outgoing connection.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = portFloor + Math.floor(Math.random() * (portCeiling - portFloor))
    if (handedOut.has(port)) continue
    if (await canListen(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error(`no free loopback port between ${portFloor} and ${portCeiling} after 200 tries`)
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `pinraft <args>` to completion (bounded), as an operator would. */
export function runPinraft(
  args: string[],
  environment: NodeJS.ProcessEnv,
  timeout = 20_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`pinraft ${args.join(' ')} did not finish within ${timeout} ms\n${stderr}`))
    }, timeout)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A `pinraft daemon` child process, its output kept for failure messages. */
export interface DaemonProcess {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  output(): string
}

export function spawnDaemon(args: string[], environment: NodeJS.ProcessEnv): DaemonProcess {
  const child = spawn(process.execPath, [binPath, ...args], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output += chunk.toString()
    // Bounded: only the tail matters when a test fails.
    if (output.length > 200_000) output = output.slice(-100_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1)))
  })
  return { child, exited, output: () => output }
}

/** Polls `check` until it returns a value (not undefined), at most `timeout` ms. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeout: number,
  interval = 100,
): Promise<T> {
  const deadline = Date.now() + timeout
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
  throw new Error(
    `timed out after ${timeout} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`,
  )
}

/** A distinct CIDv1 (raw leaves) for each number. */
export async function cidFor(index: number): Promise<string> {
  const digest = await sha256.digest(new TextEncoder().encode(`pinraft e2e ${index}`))
  return CID.create(1, raw.code, digest).toString()
}

/** One peer of a test cluster: its `pinraft init` folder, loopback ports and API client. */
export interface TestPeer {
  readonly name: string
  readonly folder: string
  readonly clusterPort: number
  readonly apiPort: number
  readonly environment: NodeJS.ProcessEnv
  readonly client: ApiClient
  readonly peerId: string
  daemon?: DaemonProcess
}

export interface TestClusterOptions {
  /** The names of the peers (and their peernames), in order. */
  readonly names?: readonly string[]
  /** Added to (or overriding) each peer's environment. */
  readonly environment?: (name: string) => NodeJS.ProcessEnv
  /** Extra arguments for each peer's `pinraft init`. */
  readonly init?: (name: string) => string[]
  /** Milliseconds for each request of the peers' API clients. */
  readonly clientTimeout?: number
}

/**
 * `pinraft init` folders for a few peers under one temporary root: loopback ports for the cluster
 * and the API, the embedded IPFS node on 127.0.0.1 (port 0, never the default 0.0.0.0:4001), one
 * secret, and Raft timings fast but not twitchy for a shared 2-core machine. Nothing is started.
 */
export async function initTestCluster(
  prefix: string,
  options: TestClusterOptions = {},
): Promise<{ root: string; peers: TestPeer[] }> {
  const root = await mkdtemp(join(tmpdir(), prefix))
  const secret = randomBytes(32).toString('hex')
  const peers: TestPeer[] = []
  for (const name of options.names ?? ['alpha', 'beta', 'gamma']) {
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const folder = join(root, name)
    const environment: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: root,
      PINRAFT_SECRET: secret,
      PINRAFT_LOG_LEVEL: 'info',
      PINRAFT_CLUSTER_PEERNAME: name,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_LISTEN_MULTIADDRESS: '/ip4/127.0.0.1/tcp/0',
      PINRAFT_IPFS_CONNECTOR_EMBEDDED_CONNECT_SWARMS_DELAY: '0s',
      PINRAFT_CONSENSUS_RAFT_HEARTBEAT_TIMEOUT: '300ms',
      PINRAFT_CONSENSUS_RAFT_ELECTION_TIMEOUT: '300ms',
      PINRAFT_CONSENSUS_RAFT_LEADER_LEASE_TIMEOUT: '150ms',
      PINRAFT_CONSENSUS_RAFT_WAIT_FOR_LEADER_TIMEOUT: '5s',
      PINRAFT_CONSENSUS_RAFT_NETWORK_TIMEOUT: '5s',
      ...options.environment?.(name),
    }
    // An override of undefined removes the variable (a Kubo peer has no embedded section).
    for (const [key, value] of Object.entries(environment)) {
      if (value === undefined) delete environment[key]
    }
    const init = await runPinraft(
      ['--config', folder, 'init', ...(options.init?.(name) ?? [])],
      environment,
    )
    if (init.code !== 0) throw new Error(`pinraft init of ${name} failed:\n${init.stderr}`)
    const identity = JSON.parse(await readFile(join(folder, 'identity.json'), 'utf8')) as {
      id: string
    }
    peers.push({
      name,
      folder,
      clusterPort,
      apiPort,
      environment,
      peerId: identity.id,
      client: new ApiClient({
        baseUrl: `http://127.0.0.1:${apiPort}`,
        timeout: options.clientTimeout ?? 30_000,
      }),
    })
  }
  return { root, peers }
}

/** The peer's cluster multiaddress with its ID, for `--bootstrap`. */
export function clusterAddress(peer: TestPeer): string {
  return `/ip4/127.0.0.1/tcp/${peer.clusterPort}/p2p/${peer.peerId}`
}

/** The peer's API as a `--host` multiaddress. */
export function apiHost(peer: TestPeer): string {
  return `/ip4/127.0.0.1/tcp/${peer.apiPort}`
}

export function startPeer(peer: TestPeer, extra: string[] = []): void {
  peer.daemon = spawnDaemon(['--config', peer.folder, 'daemon', ...extra], peer.environment)
}

/** Waits until the peer's consensus is ready (its `pinraft_consensus_ready` metric is 1). */
export async function waitPeerReady(peer: TestPeer, timeout = 30_000): Promise<void> {
  let exited = false
  try {
    await waitFor(
      `${peer.name} to be ready`,
      async () => {
        // A daemon that exited will not become ready: say so at once.
        if (peer.daemon === undefined || peer.daemon.child.exitCode !== null) {
          exited = true
          return true
        }
        return /^pinraft_consensus_ready 1$/m.test(await peer.client.metrics()) ? true : undefined
      },
      timeout,
    )
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n--- ${peer.name} output ---\n${peer.daemon?.output().slice(-4000)}`,
    )
  }
  if (exited) {
    throw new Error(
      `${peer.name} exited (${peer.daemon?.child.exitCode}) before it was ready\n--- ${peer.name} output ---\n${peer.daemon?.output().slice(-4000)}`,
    )
  }
}

/** Starts the first peer alone, then bootstraps each other one into it, each once ready. */
export async function startTestCluster(peers: readonly TestPeer[]): Promise<void> {
  const [first, ...others] = peers
  if (first === undefined) return
  startPeer(first)
  await waitPeerReady(first)
  for (const peer of others) {
    startPeer(peer, ['--bootstrap', clusterAddress(first)])
    await waitPeerReady(peer)
  }
}

/**
 * Signals the peer's daemon and waits (bounded) for it to exit; returns its exit code. A daemon
 * that does not stop in time is killed, and that is an error naming it, with its output.
 */
export async function stopPeer(
  peer: TestPeer,
  signal: NodeJS.Signals = 'SIGTERM',
  timeout = 20_000,
): Promise<number | null> {
  const daemon = peer.daemon
  if (daemon === undefined) return null
  daemon.child.kill(signal)
  const code = await Promise.race([
    daemon.exited,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeout)),
  ])
  if (code === 'timeout') {
    daemon.child.kill('SIGKILL')
    await daemon.exited
    peer.daemon = undefined
    throw new Error(`${peer.name} did not stop after ${signal}\n${daemon.output().slice(-4000)}`)
  }
  peer.daemon = undefined
  return code
}

/** Kills whatever still runs and removes the root (for afterAll). */
export async function removeTestCluster(
  root: string | undefined,
  peers: readonly TestPeer[],
): Promise<void> {
  for (const peer of peers) {
    if (peer.daemon === undefined) continue
    peer.daemon.child.kill('SIGKILL')
    await peer.daemon.exited
    peer.daemon = undefined
  }
  if (root !== undefined && root !== '') await rm(root, { recursive: true, force: true })
}
