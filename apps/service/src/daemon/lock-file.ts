import { open, readFile, unlink } from 'node:fs/promises'
import { lockPath } from '../config/paths.ts'
import { FolderLockedError } from '../errors.ts'

/** A held lock on a configuration folder; `release()` removes the lock file (once). */
export interface FolderLock {
  readonly path: string
  release(): Promise<void>
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readPid(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * Takes `<folder>/daemon.lock`, created exclusively and holding our PID, so that a second daemon
 * (or `state import|cleanup` while a daemon runs) cannot use the same Raft data. A lock left by a
 * process that no longer runs (killed with SIGKILL) is taken over; `what` names the command for
 * the message.
 */
export async function lockFolder(folder: string, what: string): Promise<FolderLock> {
  const path = lockPath(folder)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${process.pid}\n`)
        await handle.sync()
      } finally {
        await handle.close()
      }
      let released = false
      return {
        path,
        async release() {
          if (released) return
          released = true
          await unlink(path).catch(() => {})
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const pid = await readPid(path)
    if (pid !== null && pid !== process.pid && isRunning(pid)) {
      throw new FolderLockedError(
        `cannot ${what}: another pinraft process (pid ${pid}) is using ${folder}. Stop it first (pinraft daemon stops on Ctrl-C or SIGTERM); if no such process is a pinraft daemon, delete ${path}`,
        pid,
      )
    }
    // Stale: its owner is gone.
    await unlink(path).catch(() => {})
  }
  throw new FolderLockedError(
    `cannot ${what}: ${path} keeps reappearing; is another daemon starting right now?`,
    null,
  )
}
