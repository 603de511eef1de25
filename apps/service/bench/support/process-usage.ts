import { readFile } from 'node:fs/promises'

/** Resident set size and its peak (VmRSS, VmHWM) of a Linux process, in bytes. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kilobytes = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rss: kilobytes('VmRSS') * 1024, peak: kilobytes('VmHWM') * 1024 }
}

/**
 * Samples a process's RSS every `interval` ms until `stop()`; `stop()` answers the highest RSS
 * seen and the kernel's own peak (VmHWM) at the last sample. A process that exited ends the
 * sampling with what was seen.
 */
export function sampleMemory(
  pid: number,
  interval = 50,
): { stop(): Promise<{ maxRss: number; peak: number }> } {
  let maxRss = 0
  let peak = 0
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        const memory = await processMemory(pid)
        // A process that is exiting has no memory lines left (NaN): keep what was seen.
        if (memory.rss > maxRss) maxRss = memory.rss
        if (memory.peak > peak) peak = memory.peak
      } catch {
        return
      }
      await new Promise((resolve) => setTimeout(resolve, interval))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return { maxRss, peak }
    },
  }
}

/** CPU time (user + system) a Linux process has used so far, in milliseconds. */
export async function processCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / 100
}
