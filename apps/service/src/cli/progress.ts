import type { CliIo } from './io.ts'

export interface Progress {
  /** `done` of `total` items processed. */
  update(done: number): void
  /** The last update, then a newline (terminal) or a final line. */
  finish(): void
}

/**
 * Progress of long work on stderr: a bar redrawn in place on a terminal, otherwise a line every
 * `intervalMilliseconds` (logs and pipes get no carriage returns).
 */
export function createProgress(
  io: CliIo,
  what: string,
  total: number,
  options: { terminal?: boolean; now?: () => number; intervalMilliseconds?: number } = {},
): Progress {
  const terminal = options.terminal ?? io.stderrIsTerminal === true
  const now = options.now ?? (() => performance.now())
  const interval = options.intervalMilliseconds ?? (terminal ? 100 : 5000)
  let last = Number.NEGATIVE_INFINITY
  let current = 0
  const line = (): string => {
    const percent = total === 0 ? 100 : Math.floor((current / total) * 100)
    if (!terminal) return `${what}: ${current} of ${total} (${percent}%)\n`
    const width = 30
    const filled = Math.round((percent / 100) * width)
    return `\r${what} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${current}/${total} ${percent}%`
  }
  return {
    update(done) {
      current = done
      const at = now()
      if (at - last < interval) return
      last = at
      io.stderr(line())
    },
    finish() {
      io.stderr(line())
      if (terminal) io.stderr('\n')
    },
  }
}
