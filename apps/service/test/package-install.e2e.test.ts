import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * `@pinraft/service` as a package, outside the checkout: built, packed (`pnpm pack`: `bin`,
 * `files`, `engines`), and installed with its dependencies by `pnpm deploy --offline` (the local
 * store only, no network), then run as `pinraft` from PATH in a folder of its own.
 */

const run = promisify(execFile)
const serviceFolder = fileURLToPath(new URL('..', import.meta.url))
const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url))
let root: string
let installed: string
let bin: string
/** PATH with Node 24 (this test's own) first, as the README asks of a package install. */
let path: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-package-'))
  installed = join(root, 'pinraft')
  bin = join(root, 'bin')
  path = `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`
  // Turbo's cache makes this quick once the packages were built (CI builds before testing).
  await run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@pinraft/service...'], {
    cwd: repositoryRoot,
    timeout: 240_000,
  })
  await run('pnpm', ['--filter', '@pinraft/service', 'deploy', '--offline', '--prod', installed], {
    cwd: repositoryRoot,
    timeout: 120_000,
  })
  await mkdir(bin)
  // The README's PATH set-up for an installed package: a link to its bin.
  await symlink(join(installed, 'bin', 'pinraft.js'), join(bin, 'pinraft'))
}, 360_000)

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('@pinraft/service installed as a package', { timeout: 60_000 }, () => {
  it('packs bin, dist and the package fields an installer needs', async () => {
    const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', root], {
      cwd: serviceFolder,
      timeout: 60_000,
    })
    const packed = JSON.parse(stdout) as { files: { path: string }[] }
    const files = new Set(packed.files.map((file) => file.path))
    expect(files.has('bin/pinraft.js')).toBe(true)
    expect(files.has('dist/cli/main.js')).toBe(true)
    expect(files.has('package.json')).toBe(true)
    // What tells a checkout apart (and tests) stay out.
    expect(files.has('tsconfig.json')).toBe(false)
    expect([...files].some((file) => file.startsWith('test/'))).toBe(false)
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
      bin: Record<string, string>
      engines: Record<string, string>
    }
    expect(manifest.bin).toEqual({ pinraft: './bin/pinraft.js' })
    expect(manifest.engines.node).toBe('>=24')
  })

  it('runs `pinraft --version` and `pinraft init` from PATH in a folder outside the checkout', async () => {
    const environment = { PATH: path, HOME: root }
    const version = await run('pinraft', ['--version'], { cwd: root, env: environment })
    const expected = JSON.parse(await readFile(join(serviceFolder, 'package.json'), 'utf8')) as {
      version: string
    }
    expect(version.stdout.trim()).toBe(expected.version)
    const folder = join(root, 'peer')
    const init = await run('pinraft', ['--config', folder, 'init'], {
      cwd: root,
      env: environment,
    })
    expect(init.stdout).toContain(`pinraft configuration written to ${folder}`)
    const service = JSON.parse(await readFile(join(folder, 'service.json'), 'utf8')) as {
      cluster: { secret: string }
    }
    expect(service.cluster.secret).toMatch(/^[0-9a-f]{64}$/)
    // It runs the build, not the sources: nothing under node_modules is TypeScript it strips.
    expect(init.stderr).not.toContain('ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING')
  })
})
