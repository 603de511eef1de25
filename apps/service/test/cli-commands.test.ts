import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { pinraftCommand } from '../src/cli/init.ts'
import type { CliIo } from '../src/cli/io.ts'
import { runCli } from '../src/cli/program.ts'
import { createProgress } from '../src/cli/progress.ts'
import { CID_V0, CID_V1, newPeerId } from './support/api-fixture.ts'

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-commands-'))
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
    environment: { HOME: root, PATH: '', ...environment },
  }
  const code = await runCli(args, io)
  return { code, stdout, stderr }
}

describe('init as ipfs-cluster-service init', () => {
  it('accepts --consensus raft and refuses crdt with what to do', async () => {
    const folder = join(root, 'peer')
    expect((await run(['--config', folder, 'init', '--consensus', 'raft'])).code).toBe(0)
    const crdt = await run(['--config', join(root, 'other'), 'init', '--consensus', 'crdt'])
    expect(crdt.code).toBe(1)
    expect(crdt.stderr).toContain('--consensus crdt is not available')
    expect(crdt.stderr).toContain('--consensus raft')
  })

  it('resets the peerstore file with -f: to --peers, or empty', async () => {
    const folder = join(root, 'peer')
    const peer = await newPeerId()
    const address = `/ip4/192.0.2.1/tcp/9096/p2p/${peer}`
    expect((await run(['--config', folder, 'init', '--peers', address])).code).toBe(0)
    expect(await readFile(join(folder, 'peerstore'), 'utf8')).toContain(address)
    expect((await run(['--config', folder, 'init', '-f'])).code).toBe(0)
    expect((await readFile(join(folder, 'peerstore'), 'utf8')).trim()).toBe('')
  })

  it('prints a start command that exists', async () => {
    const bin = join(root, 'bin')
    await mkdir(bin)
    const result = await run(['--config', join(root, 'peer'), 'init'], { PATH: '' })
    const command = /Start the peer with: (.*)/.exec(result.stdout)?.[1] ?? ''
    // Nothing on PATH: the full path of this Node and this program.
    expect(command).toContain(process.execPath)
    expect(command).toContain('bin/pinraft.js --config')
    await writeFile(join(bin, 'pinraft'), '#!/bin/sh\n')
    await chmod(join(bin, 'pinraft'), 0o755)
    expect(pinraftCommand({ PATH: bin })).toBe('pinraft')
    const workspaceBin = join(root, 'node_modules', '.bin')
    await mkdir(workspaceBin, { recursive: true })
    await writeFile(join(workspaceBin, 'pinraft'), '#!/bin/sh\n')
    await chmod(join(workspaceBin, 'pinraft'), 0o755)
    expect(pinraftCommand({ PATH: workspaceBin }, join(root, 'apps'))).toBe('pnpm exec pinraft')
    expect(pinraftCommand({ PATH: workspaceBin }, '/elsewhere')).toBe(join(workspaceBin, 'pinraft'))
  })
})

describe('state import as 1.x', () => {
  async function initialized(): Promise<string> {
    const folder = join(root, 'peer')
    expect((await run(['--config', folder, 'init'])).code).toBe(0)
    return folder
  }

  it('says in one line that the file is missing', async () => {
    const folder = await initialized()
    const result = await run([
      '--config',
      folder,
      'state',
      'import',
      '--force',
      join(root, 'nope.json'),
    ])
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('there is no such file')
    expect(result.stderr).not.toContain('ENOENT')
  })

  it('says the folder is not initialized instead of failing on the lock', async () => {
    const result = await run(['--config', join(root, 'never'), 'state', 'export'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('pinraft init')
    expect(result.stderr).not.toContain('ENOENT')
  })

  it('overrides replication factors and allocations of every pin, and reports progress', async () => {
    const folder = await initialized()
    const file = join(root, 'pins.json')
    const allocation = await newPeerId()
    await writeFile(
      file,
      [
        { cid: CID_V0, type: 'pin', replication_factor_min: -1, replication_factor_max: -1 },
        { cid: CID_V1, type: 'pin', replication_factor_min: 1, replication_factor_max: 1 },
      ]
        .map((pin) => JSON.stringify(pin))
        .join('\n'),
    )
    const imported = await run([
      '--config',
      folder,
      'state',
      'import',
      '--force',
      '--replication-min',
      '2',
      '--replication-max',
      '3',
      '--allocations',
      allocation,
      file,
    ])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stderr).toContain('importing pins: 2 of 2 (100%)')
    const exported = await run(['--config', folder, 'state', 'export'])
    const pins = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(pins).toHaveLength(2)
    for (const pin of pins) {
      expect(pin).toMatchObject({
        replication_factor_min: 2,
        replication_factor_max: 3,
        allocations: [allocation],
      })
    }
  })
})

describe('state import without overrides', () => {
  it('keeps every field of every pin of the file, a replacement of the state each time', async () => {
    const folder = join(root, 'peer')
    expect((await run(['--config', folder, 'init'])).code).toBe(0)
    const file = join(root, 'pins.json')
    const written = [
      {
        cid: CID_V0,
        type: 'pin',
        name: 'first',
        replication_factor_min: 2,
        replication_factor_max: 3,
        metadata: { owner: 'ops' },
      },
      {
        cid: CID_V1,
        type: 'pin',
        name: 'second',
        replication_factor_min: -1,
        replication_factor_max: -1,
      },
    ]
    await writeFile(file, written.map((pin) => JSON.stringify(pin)).join('\n'))
    const imported = await run(['--config', folder, 'state', 'import', '--force', file])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stderr).toContain('imported 2 pins')
    const exportedPins = async () =>
      (await run(['--config', folder, 'state', 'export'])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    const pins = await exportedPins()
    expect(pins.map((pin) => pin.cid).sort()).toEqual([CID_V0, CID_V1].sort())
    expect(pins.find((pin) => pin.cid === CID_V0)).toMatchObject({
      name: 'first',
      replication_factor_min: 2,
      replication_factor_max: 3,
      metadata: { owner: 'ops' },
    })
    expect(pins.find((pin) => pin.cid === CID_V1)).toMatchObject({
      name: 'second',
      replication_factor_min: -1,
    })
    // Another import replaces the state: only its pin is left.
    await writeFile(file, JSON.stringify(written[1]))
    expect((await run(['--config', folder, 'state', 'import', '--force', file])).code).toBe(0)
    expect((await exportedPins()).map((pin) => pin.cid)).toEqual([CID_V1])
  })
})

describe('progress', () => {
  it('draws a bar in place on a terminal, and a line per interval elsewhere', () => {
    let text = ''
    const io = { stderr: (line: string) => (text += line) } as unknown as CliIo
    let clock = 0
    const bar = createProgress(io, 'importing', 10, { terminal: true, now: () => clock })
    bar.update(5)
    bar.finish()
    expect(text).toBe(
      `\rimporting [${'#'.repeat(15)}${'.'.repeat(15)}] 5/10 50%\rimporting [${'#'.repeat(15)}${'.'.repeat(15)}] 5/10 50%\n`,
    )
    text = ''
    const lines = createProgress(io, 'importing', 10, {
      terminal: false,
      now: () => clock,
      intervalMilliseconds: 5000,
    })
    for (let done = 1; done <= 10; done++) {
      clock += 1000
      lines.update(done)
    }
    lines.finish()
    expect(text.split('\n').filter((line) => line !== '')).toEqual([
      'importing: 1 of 10 (10%)',
      'importing: 6 of 10 (60%)',
      'importing: 10 of 10 (100%)',
    ])
  })
})
