import { execFile } from 'node:child_process'
import { CommandFailedError } from './errors.ts'

export interface CommandResult {
  readonly stdout: string
  readonly stderr: string
}

/** Runs a program (no shell) and returns its output; a non-zero exit is a `CommandFailedError` with the output. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      [...args],
      {
        signal: options.signal,
        env: options.env ?? process.env,
        timeout: options.timeout ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new CommandFailedError(
              `${file} ${args.join(' ')} failed: ${error.message.trim()}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
            ),
          )
          return
        }
        resolve({ stdout, stderr })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** Whether `program` is on PATH (the `which` check of the harness's prerequisites). */
export async function hasProgram(program: string): Promise<boolean> {
  return runCommand('which', [program]).then(
    () => true,
    () => false,
  )
}
