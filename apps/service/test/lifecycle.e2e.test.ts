import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, waitFor } from './support/processes.ts'

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
  return (await response.text()).includes('pinraft_consensus_ready 1') ? true : undefined
}

describe('stopping with Ctrl-C', () => {
  it('pnpm start stopped with Ctrl-C (SIGINT to the group, twice) exits 0 without a pnpm error', async () => {
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
      // The terminal's SIGINT to the group, and a wrapper forwarding it once more.
      process.kill(-child.pid!, 'SIGINT')
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
