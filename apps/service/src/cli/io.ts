import { createInterface } from 'node:readline/promises'
import { UsageError } from '../errors.ts'

/** Where a command reads and writes: the process in `bin/`, buffers in tests. */
export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  readonly stdin: NodeJS.ReadableStream
  /** Whether prompts can be answered (stdin is a terminal). */
  readonly interactive: boolean
  readonly environment: NodeJS.ProcessEnv
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: process.stdin,
    interactive: process.stdin.isTTY === true,
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
