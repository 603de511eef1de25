import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiFixture, CID_V1 } from './support/api-fixture.ts'
import { binPath, cidFor, runPinraft } from './support/processes.ts'

/**
 * The command's output through real pipes, as a script sees it: `pinraft … | wc -l` and
 * `pinraft … | head -1`, with the CLI as its own process.
 */

let root: string
let folder: string
const pinCount = 50_000

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** Runs `pinraft <args> | <consumer>` in a shell; resolves with the pipeline's output and statuses. */
function pipeline(
  args: string[],
  consumer: string,
  environment: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string; statuses: string }> {
  const command = `${[process.execPath, binPath, ...args].map(shellQuote).join(' ')} | ${consumer}; echo "statuses \${PIPESTATUS[*]}" >&2`
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      env: { ...process.env, HOME: root, ...environment },
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
      reject(new Error(`pipeline ${command} did not finish\n${stderr}`))
    }, 60_000)
    child.once('close', () => {
      clearTimeout(timer)
      const statuses = /statuses (.*)/.exec(stderr)?.[1] ?? ''
      resolve({ stdout, stderr: stderr.replace(/statuses .*\n?/, ''), statuses })
    })
  })
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-output-'))
  folder = join(root, 'peer')
  const environment = { HOME: root, PATH: process.env.PATH }
  const init = await runPinraft(['--config', folder, 'init'], environment)
  expect(init.code, init.stderr).toBe(0)
  const lines: string[] = []
  for (let index = 0; index < pinCount; index++) {
    lines.push(
      JSON.stringify({
        cid: await cidFor(index),
        name: `pin ${index}`,
        type: 'pin',
        replication_factor_min: -1,
        replication_factor_max: -1,
      }),
    )
  }
  const file = join(root, 'pins.json')
  await writeFile(file, `${lines.join('\n')}\n`)
  const imported = await runPinraft(
    ['--config', folder, 'state', 'import', '--force', file],
    environment,
    120_000,
  )
  expect(imported.code, imported.stderr).toBe(0)
}, 180_000)

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('output through pipes', () => {
  it('writes every exported pin to a pipe before exiting', async () => {
    const result = await pipeline(['--config', folder, 'state', 'export'], 'wc -l')
    expect(result.stderr).toBe('')
    expect(result.statuses).toBe('0 0')
    expect(Number(result.stdout.trim())).toBe(pinCount)
  })

  it('ends quietly when the reader closes the pipe, and releases the lock', async () => {
    const result = await pipeline(['--config', folder, 'state', 'export'], 'head -1')
    expect(JSON.parse(result.stdout)).toHaveProperty('cid')
    expect(result.stderr).toBe('')
    // As a process killed by SIGPIPE (141), without a stack trace.
    expect(result.statuses).toBe('141 0')
    const again = await pipeline(['--config', folder, 'state', 'export'], 'tail -1')
    expect(again.statuses, again.stderr).toBe('0 0')
    expect(JSON.parse(again.stdout)).toHaveProperty('cid')
  })

  it('lists every pin through a pipe, one JSON object per line with --enc json', async () => {
    const fixture = await apiFixture()
    for (let index = 0; index < 2000; index++)
      await fixture.consensus.logPin({ cid: await cidFor(index), name: `pin ${index}` })
    const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const text = await pipeline(['pin', 'ls', '--host', address], 'wc -l')
      expect(text.statuses, text.stderr).toBe('0 0')
      expect(Number(text.stdout.trim())).toBe(2000)
      // Client flags before the command, as ipfs-cluster-ctl takes them.
      const json = await pipeline(['--enc', 'json', '--host', address, 'pin', 'ls'], 'cat')
      expect(json.statuses, json.stderr).toBe('0 0')
      const lines = json.stdout.trimEnd().split('\n')
      expect(lines).toHaveLength(2000)
      for (const line of lines) expect(JSON.parse(line)).toHaveProperty('cid')
      // A reader that goes away ends it quietly.
      const head = await pipeline(['pin', 'ls', '--host', address], 'head -1')
      expect(head.stderr).toBe('')
      expect(head.stdout.split('\n').filter((line) => line !== '')).toHaveLength(1)
      expect(['0 0', '141 0']).toContain(head.statuses)
    } finally {
      await fixture.app.close()
    }
  })

  it('tries the --host addresses in order until one answers', async () => {
    const fixture = await apiFixture()
    await fixture.consensus.logPin({ cid: CID_V1, name: 'hello' })
    const address = await fixture.app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const result = await runPinraft(
        ['pin', 'ls', '--enc', 'json', '--host', `/ip4/127.0.0.1/tcp/1,${address}`],
        { HOME: root },
      )
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ cid: CID_V1, name: 'hello' })
    } finally {
      await fixture.app.close()
    }
  })
})

/** A Node older than 24 on this machine, if any (the system's own). */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
      if (Number(version.slice(1).split('.')[0]) < 24) return candidate
    } catch {}
  }
  return undefined
}

describe('the bin shim', () => {
  const node = olderNode()
  it('runs from any folder through a link to node_modules/.bin/pinraft, with the workspace Node', async () => {
    const bin = join(root, 'path-bin')
    await mkdir(bin)
    const repositoryBin = fileURLToPath(
      new URL('../../../node_modules/.bin/pinraft', import.meta.url),
    )
    await symlink(repositoryBin, join(bin, 'pinraft'))
    // A PATH with only the link and the system's tools (whose node, if any, is older).
    const result = spawnSync('pinraft', ['--version'], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: root },
    })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/)
  })

  it.skipIf(node === undefined)('says which Node it needs under an older one', () => {
    const result = spawnSync(node!, [binPath, 'version'], { encoding: 'utf8' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('pinraft needs Node 24 or newer')
    expect(result.stderr).toContain('pnpm exec pinraft')
    expect(result.stderr).not.toContain('SyntaxError')
  })
})
