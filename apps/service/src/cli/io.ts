import { createInterface } from 'node:readline/promises'
import { OutputClosedError, UsageError } from '../errors.ts'

/** Where a command reads and writes: the process in `bin/`, buffers in tests. */
export interface CliIo {
  /**
   * Writes command output. Returns false when the reader is slower than the writer: a command
   * writing much (`state export`) then awaits `drain()` before writing more. Throws
   * `OutputClosedError` once the reader went away.
   */
  stdout(text: string): unknown
  stderr(text: string): void
  /** Resolves when output written so far may be followed by more (backpressure). */
  drain?(): Promise<void>
  /** Resolves once everything written has left the process, so that exiting loses nothing. */
  flush?(): Promise<void>
  readonly stdin: NodeJS.ReadableStream
  /** Whether prompts can be answered (stdin is a terminal). */
  readonly interactive: boolean
  /** Whether stderr is a terminal (progress bars); false when omitted. */
  readonly stderrIsTerminal?: boolean
  readonly environment: NodeJS.ProcessEnv
}

/** Writes `text` to the command's output, waiting when the reader is behind. */
export async function writeOutput(io: CliIo, text: string): Promise<void> {
  if (io.stdout(text) === false && io.drain !== undefined) await io.drain()
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve()
  // A write's callback runs after every earlier write was handed to the OS (or failed).
  return new Promise((resolve) => stream.write('', () => resolve()))
}

/**
 * The process's streams. A closed stdout (EPIPE: the reader of a pipe exited) is remembered, not
 * thrown as an uncaught error: the next write throws `OutputClosedError`, so the command stops
 * and releases what it holds (the folder lock).
 */
export function processIo(): CliIo {
  let closed = false
  process.stdout.on('error', () => {
    closed = true
  })
  process.stderr.on('error', () => {})
  const closedError = () => new OutputClosedError('the output was closed by its reader')
  return {
    stdout: (text) => {
      if (closed) throw closedError()
      return process.stdout.write(text)
    },
    drain: () =>
      new Promise<void>((resolve, reject) => {
        if (closed) {
          reject(closedError())
          return
        }
        const done = () => {
          process.stdout.off('drain', done)
          process.stdout.off('error', done)
          if (closed) reject(closedError())
          else resolve()
        }
        process.stdout.once('drain', done)
        process.stdout.once('error', done)
      }),
    flush: async () => {
      await Promise.all([closed ? undefined : flushed(process.stdout), flushed(process.stderr)])
    },
    stderr: (text) => {
      process.stderr.write(text)
    },
    stdin: process.stdin,
    interactive: process.stdin.isTTY === true,
    stderrIsTerminal: process.stderr.isTTY === true,
    environment: process.env,
  }
}

/**
 * Asks a yes/no question (IPFS Cluster's `state` commands do). Without a terminal it refuses
 * instead of guessing: scripts pass `--force`.
 */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  if (!io.interactive) {
    throw new UsageError(
      `${question}\nThere is no terminal to answer on: run the command again with --force to proceed.`,
    )
  }
  const reader = createInterface({ input: io.stdin, output: process.stderr })
  try {
    const answer = await reader.question(`${question} [y/N]: `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    reader.close()
  }
}
