import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

export const binPath = fileURLToPath(new URL('../../bin/pinraft.js', import.meta.url))

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
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
