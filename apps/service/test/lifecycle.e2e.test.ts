import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, runPinraft, spawnDaemon, waitFor } from './support/processes.ts'

/**
 * Ctrl-C as an operator presses it: the terminal sends SIGINT to the whole process group, so
 * `pnpm start` (two pnpm processes) and the daemon all receive it. Simulated by signalling the
 * group of a detached `pnpm start`.
 */

const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url))
let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-lifecycle-'))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function ready(apiPort: number): Promise<boolean | undefined> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/metrics`)
  return /^pinraft_consensus_ready 1$/m.test(await response.text()) ? true : undefined
}

describe('stopping with Ctrl-C', () => {
  it('pnpm start stopped with Ctrl-C (SIGINT to the group) exits 0 without a pnpm error', async () => {
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const child = spawn('pnpm', ['start'], {
      cwd: repositoryRoot,
      detached: true,
      env: {
        ...process.env,
        PINRAFT_PATH: join(root, 'peer'),
        PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
        PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      await waitFor('the daemon under pnpm start to be ready', () => ready(apiPort), 30_000)
      // The terminal's SIGINT to the group: the daemon gets it, and pnpm forwards it again.
      process.kill(-child.pid!, 'SIGINT')
      const code = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
      ])
      expect(code, output).toBe(0)
      expect(output).toContain('"msg":"stopped"')
      expect(output).not.toContain('ELIFECYCLE')
      expect(output).not.toContain('without a clean shutdown')
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL')
    }
  }, 60_000)
})

describe('signals sent together', () => {
  it('stop the daemon once and cleanly (exit 0)', async () => {
    const folder = join(root, 'peer')
    const apiPort = await freePort()
    const environment = {
      HOME: root,
      PATH: process.env.PATH,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
    }
    const daemon = spawnDaemon(['--config', folder, 'daemon', '--init'], environment)
    try {
      await waitFor('the daemon to be ready', () => ready(apiPort), 30_000)
      // Two different signals, so the kernel cannot merge them into one delivery.
      daemon.child.kill('SIGINT')
      daemon.child.kill('SIGTERM')
      const code = await Promise.race([
        daemon.exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
      ])
      expect(code, daemon.output()).toBe(0)
      expect(daemon.output()).toContain('"msg":"stopped"')
      expect(daemon.output()).not.toContain('without a clean shutdown')
    } finally {
      daemon.child.kill('SIGKILL')
    }
  }, 60_000)
})

describe('--leave', () => {
  it('says what it waits for while it leaves', async () => {
    const folder = join(root, 'peer')
    const apiPort = await freePort()
    const daemon = spawnDaemon(['--config', folder, 'daemon', '--init', '--leave'], {
      HOME: root,
      PATH: process.env.PATH,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
    })
    try {
      await waitFor('the daemon to be ready', () => ready(apiPort), 30_000)
      daemon.child.kill('SIGTERM')
      await Promise.race([daemon.exited, new Promise((resolve) => setTimeout(resolve, 20_000))])
      expect(daemon.output()).toContain(
        'leaving the cluster (--leave): waiting for the leader to commit the removal of this peer',
      )
    } finally {
      daemon.child.kill('SIGKILL')
    }
  }, 60_000)
})

describe('a peer with the wrong secret', () => {
  it('is named by the peer it tries to join, with the secret as the likely cause', async () => {
    const environment = { HOME: root, PATH: process.env.PATH }
    const first = join(root, 'first')
    const second = join(root, 'second')
    for (const folder of [first, second])
      expect((await runPinraft(['--config', folder, 'init'], environment)).code).toBe(0)
    const [clusterPort, apiPort] = [await freePort(), await freePort()]
    const leader = spawnDaemon(['--config', first, 'daemon'], {
      ...environment,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${clusterPort}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
    })
    let joiner: ReturnType<typeof spawnDaemon> | undefined
    try {
      await waitFor('the first peer to be ready', () => ready(apiPort), 30_000)
      const id = (await (await fetch(`http://127.0.0.1:${apiPort}/id`)).json()) as { id: string }
      // Each folder got its own random secret from init.
      joiner = spawnDaemon(
        [
          '--config',
          second,
          'daemon',
          '--join-timeout',
          '20s',
          '--bootstrap',
          `/ip4/127.0.0.1/tcp/${clusterPort}/p2p/${id.id}`,
        ],
        {
          ...environment,
          PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
          PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
        },
      )
      await waitFor(
        'the first peer to name the secret',
        async () =>
          leader.output().includes('failed the private network handshake') ? true : undefined,
        15_000,
      )
      const line = leader
        .output()
        .split('\n')
        .find((candidate) => candidate.includes('failed the private network handshake'))!
      expect(JSON.parse(line)).toMatchObject({ level: 40, direction: 'inbound' })
      expect(line).toContain('cluster.secret')
    } finally {
      leader.child.kill('SIGKILL')
      joiner?.child.kill('SIGKILL')
    }
  }, 60_000)
})

describe('a peer whose state was cleaned', () => {
  it('refuses to start a new cluster in one JSON line, unless --new-cluster', async () => {
    const folder = join(root, 'peer')
    const apiPort = await freePort()
    const environment = {
      HOME: root,
      PATH: process.env.PATH,
      PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: `/ip4/127.0.0.1/tcp/${apiPort}`,
    }
    const first = spawnDaemon(['--config', folder, 'daemon', '--init'], environment)
    try {
      await waitFor('the daemon to be ready', () => ready(apiPort), 30_000)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)
    } finally {
      first.child.kill('SIGKILL')
    }
    const cleaned = await runPinraft(
      ['--config', folder, 'state', 'cleanup', '--force'],
      environment,
    )
    expect(cleaned.code, cleaned.stderr).toBe(0)
    const refused = await runPinraft(['--config', folder, 'daemon'], environment)
    expect(refused.code).toBe(1)
    const failures = refused.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; error?: string })
      .filter((record) => record.level >= 50)
    expect(failures).toEqual([expect.objectContaining({ error: 'RemovedFromClusterError' })])
    const anew = spawnDaemon(['--config', folder, 'daemon', '--new-cluster'], environment)
    try {
      await waitFor('the new cluster to be ready', () => ready(apiPort), 30_000)
    } finally {
      anew.child.kill('SIGTERM')
      await anew.exited
    }
  }, 90_000)
})

describe('a port already in use', () => {
  let blocker: Server | undefined
  afterEach(async () => {
    await new Promise<void>((resolve) =>
      blocker === undefined ? resolve() : blocker.close(() => resolve()),
    )
    blocker = undefined
  })

  for (const [key, variable] of [
    ['cluster.listen_multiaddress', 'PINRAFT_CLUSTER_LISTEN_MULTIADDRESS'],
    ['api.restapi.http_listen_multiaddress', 'PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS'],
  ] as const) {
    it(`is one JSON log line naming the address, ${key} and ${variable}`, async () => {
      const taken = await freePort()
      blocker = createServer()
      await new Promise<void>((resolve) => blocker!.listen(taken, '127.0.0.1', resolve))
      const folder = join(root, 'peer')
      const environment = { HOME: root, PATH: process.env.PATH }
      expect((await runPinraft(['--config', folder, 'init'], environment)).code).toBe(0)
      const address = `/ip4/127.0.0.1/tcp/${taken}`
      const other = `/ip4/127.0.0.1/tcp/${await freePort()}`
      const result = await runPinraft(['--config', folder, 'daemon'], {
        ...environment,
        PINRAFT_CLUSTER_LISTEN_MULTIADDRESS: variable.includes('CLUSTER') ? address : other,
        PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS: variable.includes('API')
          ? address
          : `/ip4/127.0.0.1/tcp/${await freePort()}`,
      })
      expect(result.code).toBe(1)
      const lines = result.stderr.trim().split('\n')
      // Every line of the log stream is JSON, the failure too.
      const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string })
      const failures = records.filter((record) => record.level >= 50)
      expect(failures).toHaveLength(1)
      expect(failures[0]!.msg).toContain(address)
      expect(failures[0]!.msg).toContain(key)
      expect(failures[0]!.msg).toContain(variable)
      expect(result.stderr).not.toContain('transportManager')
    })
  }
})
