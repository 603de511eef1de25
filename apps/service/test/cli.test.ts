import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CliIo } from '../src/cli/io.ts'
import { runCli } from '../src/cli/program.ts'
import { freePort } from './support/processes.ts'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-cli-'))
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function run(
  args: string[],
  environment: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stdin: Readable.from([]),
    interactive: false,
    environment: { HOME: root, ...environment },
  }
  const code = await runCli(args, io)
  return { code, stdout, stderr }
}

describe('the pinraft command line', () => {
  it('prints its help and fails without a command, as ipfs does', async () => {
    const result = await run([])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('Usage: pinraft')
    expect(result.stderr).toContain('daemon')
  })

  it('shows help for a command with exit code 0', async () => {
    const result = await run(['daemon', '--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('--bootstrap')
    expect(result.stdout).toContain('Examples:')
  })

  it('initializes a folder once, then refuses without --force', async () => {
    const folder = join(root, 'peer')
    const first = await run(['--config', folder, 'init'])
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('peer ID: 12D3KooW')
    const second = await run(['init', '--config', folder])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('already exist')
  })

  it('uses PINRAFT_PATH when --config is not given', async () => {
    const folder = join(root, 'from-env')
    const result = await run(['init'], { PINRAFT_PATH: folder })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(folder)
  })

  it('says how to start a daemon when a client command finds no API', async () => {
    const port = await freePort()
    const result = await run(['id', '--host', `/ip4/127.0.0.1/tcp/${port}`])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`cannot reach the pinraft API at http://127.0.0.1:${port}`)
    expect(result.stderr).toContain('pinraft daemon')
  })

  it('refuses a --bootstrap address that names no peer, before touching any state', async () => {
    const folder = join(root, 'peer')
    await run(['--config', folder, 'init'])
    const result = await run([
      '--config',
      folder,
      '--log-level',
      'silent',
      'daemon',
      '--bootstrap',
      '/ip4/127.0.0.1/tcp/9096',
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('/p2p/')
  })

  it('refuses to import from standard input without --force, and to clean up without a terminal', async () => {
    const folder = join(root, 'peer')
    await run(['--config', folder, 'init'])
    const imported = await run(['--config', folder, 'state', 'import'])
    expect(imported.code).toBe(1)
    expect(imported.stderr).toContain('--force')
    const cleaned = await run(['--config', folder, 'state', 'cleanup'])
    expect(cleaned.code).toBe(1)
    expect(cleaned.stderr).toContain('run the command again with --force')
  })
})
