import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './support/processes.ts'

/**
 * The root README's three-peer walk-through, run as written: its commands are taken from the
 * README, the terminals' daemons run in the background (each waited for until /health/ready),
 * and only the folder (/tmp/pinraft) and the nine ports are moved, so that the test cannot collide
 * with anything else on the machine.
 */

const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url))
const heading = '### A three-peer cluster on one machine in five minutes'
let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-readme-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** The first `sh` block after the walk-through's heading, as logical lines (continuations joined). */
export function walkThrough(readme: string): string[] {
  const section = readme.slice(readme.indexOf(heading))
  const match = /```sh\n([\s\S]*?)```/.exec(section)
  if (!readme.includes(heading) || match === null)
    throw new Error(`the README has no sh block under "${heading}"`)
  const lines: string[] = []
  let current = ''
  for (const line of match[1]!.split('\n')) {
    current += current === '' ? line : `\n${line}`
    if (line.endsWith('\\')) continue
    if (current.trim() !== '') lines.push(current)
    current = ''
  }
  return lines
}

async function script(lines: readonly string[], folder: string, logs: string): Promise<string> {
  const ports = new Map<string, number>()
  for (const line of lines)
    for (const [, port] of line.matchAll(/\/tcp\/(9\d{3}|4\d01)\b/g))
      if (!ports.has(port!)) ports.set(port!, await freePort())
  const move = (line: string) =>
    line
      .replaceAll('/tmp/pinraft', folder)
      .replace(/\/tcp\/(9\d{3}|4\d01)\b/g, (_whole, port: string) => `/tcp/${ports.get(port)}`)
  const body: string[] = []
  let daemons = 0
  for (const original of lines) {
    const line = move(original)
    if (line.trimStart().startsWith('#')) {
      body.push(line)
      continue
    }
    if (/\bpinraft\b[^\n]*\sdaemon\b/.test(line)) {
      const api =
        /PINRAFT_API_RESTAPI_HTTP_LISTEN_MULTIADDRESS=\/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(
          line,
        )?.[1]
      if (api === undefined)
        throw new Error(`a daemon of the walk-through has no API port: ${line}`)
      daemons++
      // A terminal of its own: in the background, its output in a file.
      body.push(`( ${line} ) > ${logs}/daemon${daemons}.log 2>&1 &`, `wait_ready ${api}`)
      continue
    }
    body.push(line)
  }
  return [
    'set -euo pipefail',
    // Ctrl-C in each terminal at the end: SIGINT, then wait for the clean stop.
    "trap 'kill -INT $(jobs -p) 2>/dev/null || true; wait' EXIT",
    'wait_ready() {',
    '  for attempt in $(seq 1 300); do',
    '    curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null && return 0',
    '    sleep 0.2',
    '  done',
    '  echo "the peer with API port $1 did not become ready" >&2; return 1',
    '}',
    ...body,
  ].join('\n')
}

describe("the README's walk-through", () => {
  it('runs as written: three peers, a pin through one, read from another', async () => {
    const readme = await readFile(join(repositoryRoot, 'README.md'), 'utf8')
    const lines = walkThrough(readme)
    const logs = join(root, 'logs')
    const folder = join(root, 'pinraft')
    await import('node:fs/promises').then(({ mkdir }) => mkdir(logs))
    const text = await script(lines, folder, logs)
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn('bash', ['-c', text], {
          cwd: root,
          env: {
            ...process.env,
            HOME: root,
            // `pinraft` on PATH, as the README's set-up puts it.
            PATH: `${join(repositoryRoot, 'node_modules', '.bin')}:${process.env.PATH}`,
          },
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
          reject(new Error(`the walk-through did not finish\n${stdout}\n${stderr}`))
        }, 150_000)
        child.once('close', (code) => {
          clearTimeout(timer)
          resolve({ code, stdout, stderr })
        })
      },
    )
    const daemonLogs = await Promise.all(
      (await readdir(logs)).map(
        async (name) => `--- ${name}\n${(await readFile(join(logs, name), 'utf8')).slice(-3000)}`,
      ),
    )
    const context = `${result.stdout}\n${result.stderr}\n${daemonLogs.join('\n')}`
    expect(result.code, context).toBe(0)
    // pin ls on the third peer lists the added file's pin once.
    const listed = result.stdout.split('\n').filter((line) => line.includes(' | hello | '))
    expect(listed, context).toHaveLength(1)
    const cid = listed[0]?.split(' | ')[0] ?? ''
    expect(cid, context).toMatch(/^Qm\w{44}$/)
    // pin add --wait, then status on the first peer: the three IPFS nodes hold it.
    expect(
      result.stdout.split('\n').filter((line) => line === `${cid} | hello:`),
      context,
    ).toHaveLength(2)
    expect(result.stdout.match(/ : PINNED \|/g) ?? [], context).toHaveLength(6)
    expect(result.stdout.match(/\| Sees 2 other peers/g) ?? [], context).toHaveLength(3)
    // Each daemon stopped cleanly at the end.
    for (const log of daemonLogs) expect(log, log).toContain('"msg":"stopped"')
  }, 180_000)
})
