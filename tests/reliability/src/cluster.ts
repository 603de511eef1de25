import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rm, statfs, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ApiClient, ApiEndpoint } from './api-client.ts'
import { runCommand } from './command.ts'
import { RecoveryTimeoutError } from './errors.ts'
import { nodeAddress, type TestNetwork } from './network.ts'

export const CLUSTER_PORT = 9096
export const API_PORT = 9094
export const IPFS_PORT = 4001

/** How to run the `pinraft` CLI: Node 24 and `apps/service/bin/pinraft.js`. */
export interface PinraftBinary {
  readonly node: string
  readonly script: string
}

export interface TestClusterInit {
  readonly network: TestNetwork
  readonly binary: PinraftBinary
  /** Configuration folders, logs and the disk-full mount go under it. */
  readonly folder: string
  readonly client: ApiClient
  readonly basicAuth?: { readonly user: string; readonly password: string }
  /**
   * Size of the tmpfs mounted on every peer's Raft data folder, e.g. `64m`, so that the disk-full
   * fault can fill any peer's; without it the folders are plain directories (no disk-full fault).
   */
  readonly tmpfsSize?: string
  /** Overrides of `consensus.raft` (shorter timeouts keep a CI run short). */
  readonly raft?: Readonly<Record<string, unknown>>
}

export interface PeerInfo {
  readonly index: number
  readonly name: string
  readonly folder: string
  readonly dataFolder: string
  readonly logPath: string
  readonly endpoint: ApiEndpoint
  peerId: string
}

export interface PeerMetrics {
  readonly leader: boolean
  readonly leaderKnown: boolean
  readonly ready: boolean
  readonly term: number
  readonly appliedIndex: number
}

function metric(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return match === null ? undefined : Number(match[1])
}

function delay(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/**
 * Five `pinraft daemon` processes, one per network namespace, with configuration folders made by
 * `pinraft init` (a shared cluster secret, `init_peerset` listing every peer, a peerstore file
 * with the others' addresses). Faults act on the real processes: SIGKILL, SIGSTOP/SIGCONT,
 * removal and re-joining, a full disk.
 */
export class TestCluster {
  readonly peers: PeerInfo[] = []
  readonly #init: TestClusterInit
  readonly #processes = new Map<number, ChildProcess>()
  readonly #paused = new Set<number>()
  readonly #mounts: string[] = []
  readonly secret = randomBytes(32).toString('hex')

  constructor(init: TestClusterInit) {
    this.#init = init
    for (let index = 0; index < init.network.nodes; index++) {
      const name = `peer-${index + 1}`
      const folder = join(init.folder, name)
      this.peers.push({
        index,
        name,
        folder,
        dataFolder: join(folder, 'raft'),
        logPath: join(init.folder, `${name}.log`),
        endpoint: { node: name, url: `http://${nodeAddress(index)}:${API_PORT}` },
        peerId: '',
      })
    }
  }

  endpoints(): ApiEndpoint[] {
    return this.peers.map((peer) => peer.endpoint)
  }

  clusterAddress(index: number): string {
    const peer = this.peers[index]!
    return `/ip4/${nodeAddress(index)}/tcp/${CLUSTER_PORT}/p2p/${peer.peerId}`
  }

  /** `pinraft init` for every peer, then the harness's settings written into each service.json. */
  async setUp(options: { signal?: AbortSignal } = {}): Promise<void> {
    await mkdir(this.#init.folder, { recursive: true })
    for (const peer of this.peers) {
      await runCommand(
        this.#init.binary.node,
        [this.#init.binary.script, '--config', peer.folder, 'init', '--force'],
        {
          env: { ...process.env, PINRAFT_SECRET: this.secret },
          signal: options.signal,
        },
      )
      const identity = JSON.parse(await readFile(join(peer.folder, 'identity.json'), 'utf8')) as {
        id: string
      }
      peer.peerId = identity.id
    }
    for (const peer of this.peers) {
      const path = join(peer.folder, 'service.json')
      const service = JSON.parse(await readFile(path, 'utf8')) as {
        cluster: Record<string, unknown>
        consensus: { raft: Record<string, unknown> }
        api: { restapi: Record<string, unknown> }
        ipfs_connector: { embedded?: Record<string, unknown> }
      }
      service.cluster['peername'] = peer.name
      service.cluster['listen_multiaddress'] = [
        `/ip4/${nodeAddress(peer.index)}/tcp/${CLUSTER_PORT}`,
      ]
      service.consensus.raft = {
        ...service.consensus.raft,
        ...this.#init.raft,
        init_peerset: this.peers.map((other) => other.peerId),
        data_folder: peer.dataFolder,
      }
      service.api.restapi['http_listen_multiaddress'] =
        `/ip4/${nodeAddress(peer.index)}/tcp/${API_PORT}`
      // Each peer's IPFS node on its namespace's own address, never every interface.
      if (service.ipfs_connector.embedded !== undefined) {
        service.ipfs_connector.embedded['listen_multiaddress'] = [
          `/ip4/${nodeAddress(peer.index)}/tcp/${IPFS_PORT}`,
        ]
      }
      if (this.#init.basicAuth !== undefined) {
        service.api.restapi['basic_auth_credentials'] = {
          [this.#init.basicAuth.user]: this.#init.basicAuth.password,
        }
      }
      await writeFile(path, `${JSON.stringify(service, null, 2)}\n`, { mode: 0o600 })
      const others = this.peers
        .filter((other) => other !== peer)
        .map((other) => this.clusterAddress(other.index))
      await writeFile(join(peer.folder, 'peerstore'), `${others.join('\n')}\n`)
    }
    const size = this.#init.tmpfsSize
    for (const peer of this.peers) {
      await mkdir(peer.dataFolder, { recursive: true })
      if (size === undefined) continue
      await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', peer.dataFolder])
      this.#mounts.push(peer.dataFolder)
    }
  }

  isRunning(index: number): boolean {
    return this.#processes.has(index)
  }

  /** Starts peer `index` in its namespace; `bootstrap` joins through another peer (`daemon --bootstrap`). */
  start(index: number, options: { bootstrap?: string } = {}): void {
    if (this.#processes.has(index)) return
    const peer = this.peers[index]!
    const args = [
      this.#init.binary.node,
      this.#init.binary.script,
      '--config',
      peer.folder,
      'daemon',
    ]
    if (options.bootstrap !== undefined) args.push('--bootstrap', options.bootstrap)
    const log = openSync(peer.logPath, 'a')
    const [file, ...rest] = this.#init.network.wrap(index, args)
    // `ip netns exec` execs the program: the child's PID is the daemon's, so signals reach it.
    const child = spawn(file!, rest, {
      stdio: ['ignore', log, log],
      env: { ...process.env, PINRAFT_LOG_LEVEL: 'info' },
    })
    closeSync(log)
    this.#processes.set(index, child)
    child.once('exit', () => {
      if (this.#processes.get(index) === child) this.#processes.delete(index)
      this.#paused.delete(index)
    })
  }

  startAll(): void {
    for (const peer of this.peers) this.start(peer.index)
  }

  /** `kill -9`, then waits for the process to be gone. */
  async kill(index: number): Promise<void> {
    const child = this.#processes.get(index)
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }

  /** SIGTERM (a clean stop), SIGKILL if it has not exited after `grace` milliseconds. */
  async stop(index: number, grace = 10_000): Promise<void> {
    const child = this.#processes.get(index)
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    if (this.#paused.has(index)) child.kill('SIGCONT')
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), grace)
    await exited
    clearTimeout(timer)
  }

  pause(index: number): void {
    const child = this.#processes.get(index)
    if (child === undefined) return
    child.kill('SIGSTOP')
    this.#paused.add(index)
  }

  resume(index: number): void {
    const child = this.#processes.get(index)
    if (child === undefined || !this.#paused.has(index)) return
    child.kill('SIGCONT')
    this.#paused.delete(index)
  }

  resumeAll(): void {
    for (const index of [...this.#paused]) this.resume(index)
  }

  /** Fills peer `index`'s data folder (a tmpfs) until the file system has no space left. */
  async fillDisk(index: number): Promise<number> {
    const peer = this.peers[index]!
    if (!this.#mounts.includes(peer.dataFolder))
      throw new RangeError(
        `${peer.name}'s data folder is not a tmpfs: give TestCluster a tmpfsSize to fill disks`,
      )
    const filler = join(peer.dataFolder, 'reliability-filler')
    const handle = await open(filler, 'a')
    const chunk = Buffer.alloc(1024 * 1024)
    let written = 0
    try {
      const space = await statfs(peer.dataFolder)
      const target = space.bavail * space.bsize
      while (written < target) {
        try {
          written += (await handle.write(chunk)).bytesWritten
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw error
        }
      }
    } finally {
      await handle.close()
    }
    return written
  }

  async freeDisk(index: number): Promise<void> {
    await unlink(join(this.peers[index]!.dataFolder, 'reliability-filler')).catch(() => undefined)
  }

  /**
   * Deletes everything in a stopped peer's Raft data folder (a lost disk), keeping the folder
   * itself (it may be a mount point). Its identity and configuration stay.
   */
  async wipeData(index: number): Promise<number> {
    if (this.isRunning(index))
      throw new RangeError(`${this.peers[index]!.name} is running: stop it before wiping its data`)
    const folder = this.peers[index]!.dataFolder
    const entries = await readdir(folder).catch(() => [])
    for (const entry of entries) await rm(join(folder, entry), { recursive: true, force: true })
    return entries.length
  }

  /** The members peer `index` reports (`GET /id`'s `cluster_peers`), or undefined when it does not answer. */
  async members(
    index: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<string[] | undefined> {
    try {
      const identity = await this.#init.client.identity(this.peers[index]!.endpoint, options)
      return [...identity.clusterPeers].sort()
    } catch {
      return undefined
    }
  }

  async metrics(
    index: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<PeerMetrics | undefined> {
    try {
      const { status, body } = await this.#init.client.raw(
        this.peers[index]!.endpoint,
        'GET',
        '/metrics',
        options,
      )
      if (status !== 200) return undefined
      return {
        leader: metric(body, 'pinraft_raft_leader') === 1,
        leaderKnown: metric(body, 'pinraft_raft_leader_known') === 1,
        ready: metric(body, 'pinraft_consensus_ready') === 1,
        term: metric(body, 'pinraft_raft_term') ?? 0,
        appliedIndex: metric(body, 'pinraft_raft_applied_index') ?? 0,
      }
    } catch {
      return undefined
    }
  }

  /** The running peer that says it leads at the highest term, if any answers. */
  async leader(options: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    let best: { index: number; term: number } | undefined
    for (const peer of this.peers) {
      if (!this.isRunning(peer.index) || this.#paused.has(peer.index)) continue
      const metrics = await this.metrics(peer.index, options)
      if (metrics?.leader === true && (best === undefined || metrics.term > best.term))
        best = { index: peer.index, term: metrics.term }
    }
    return best?.index
  }

  /**
   * Waits until every peer runs, exactly one leads, every peer is ready and all hold the same
   * pinset. Returns the pinsets; `RecoveryTimeoutError` past `bound` milliseconds, saying what
   * was still wrong.
   */
  async waitForRecovery(
    bound: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Record<string, string[]>> {
    const deadline = AbortSignal.timeout(bound)
    const signal =
      options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
    let problem = 'not checked yet'
    while (!signal.aborted) {
      problem = await this.#recoveryProblem(signal)
      if (problem === '') {
        const pinsets: Record<string, string[]> = {}
        for (const peer of this.peers)
          pinsets[peer.name] = await this.#init.client.pinset(peer.endpoint, { signal })
        const first = JSON.stringify(Object.values(pinsets)[0])
        problem = Object.values(pinsets).every((pinset) => JSON.stringify(pinset) === first)
          ? await this.#consistentPinsetProblem(first, signal)
          : 'the peers hold different pinsets'
        if (problem === '') return pinsets
      }
      await delay(500, signal)
    }
    throw new RecoveryTimeoutError(
      `the cluster did not recover within ${bound / 1000} s: ${problem}`,
    )
  }

  async #recoveryProblem(signal: AbortSignal): Promise<string> {
    const leaders: string[] = []
    const everyone = JSON.stringify(this.peers.map((peer) => peer.peerId).sort())
    for (const peer of this.peers) {
      if (!this.isRunning(peer.index)) return `${peer.name} is not running`
      const metrics = await this.metrics(peer.index, { signal })
      if (metrics === undefined) return `${peer.name} does not answer GET /metrics`
      if (!metrics.ready) return `${peer.name} is not ready (leader known: ${metrics.leaderKnown})`
      if (metrics.leader) leaders.push(peer.name)
      // Every removed or wiped peer must be back as a member, as every peer sees it.
      const members = await this.members(peer.index, { signal })
      if (JSON.stringify(members) !== everyone)
        return `${peer.name} reports members ${JSON.stringify(members?.map((id) => this.#nameOf(id)))}, not all five peers`
    }
    if (leaders.length !== 1)
      return `${leaders.length} peers say they lead (${leaders.join(', ') || 'none'})`
    return ''
  }

  /** Once converged, a consistent read of the pinset (`GET /allocations?consistent=true`) must agree. */
  async #consistentPinsetProblem(expected: string, signal: AbortSignal): Promise<string> {
    for (const peer of this.peers) {
      try {
        const pinset = await this.#init.client.pinset(peer.endpoint, {
          signal,
          consistency: 'consistent',
        })
        if (JSON.stringify(pinset) !== expected)
          return `${peer.name}'s consistent pinset differs from the pinset every peer holds`
      } catch (error) {
        return `${peer.name}: ${(error as Error).message}`
      }
    }
    return ''
  }

  #nameOf(peerId: string): string {
    return this.peers.find((peer) => peer.peerId === peerId)?.name ?? peerId
  }

  async logs(): Promise<Record<string, string>> {
    const logs: Record<string, string> = {}
    for (const peer of this.peers)
      logs[peer.name] = await readFile(peer.logPath, 'utf8').catch(() => '')
    return logs
  }

  /** Stops every daemon (resuming paused ones first), unmounts the tmpfs and removes the folders. */
  async tearDown(options: { keepFiles?: boolean } = {}): Promise<void> {
    this.resumeAll()
    await Promise.all(this.peers.map((peer) => this.stop(peer.index, 5_000)))
    for (const mount of this.#mounts.splice(0))
      await runCommand('umount', ['-l', mount]).catch(() => undefined)
    if (options.keepFiles !== true) await rm(this.#init.folder, { recursive: true, force: true })
  }
}
