import { type ChildProcess, spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { formatPeerstoreFile, parsePeerstoreFile, savePeerstoreFile } from '../src/index.ts'
import { crashContents } from './fixtures/crash-contents.ts'
import { temporaryFolder } from './fixtures.ts'

const SAVE_LOOP = fileURLToPath(new URL('./fixtures/save-loop.ts', import.meta.url))
const KILLS = 6
/** Saves per child at most, so a child that is never killed still ends. */
const SAVES_PER_CHILD = 400
const READS_PER_CHILD = 50

/** Resolves once the child has printed `count` completed saves (or has exited). */
function savesCompleted(child: ChildProcess, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').length - 1
      if (seen >= count) resolve()
    })
    child.once('exit', () => resolve())
  })
}

describe('atomic save under a crash', () => {
  it('leaves the old or the new complete file, to readers and after a kill mid-save', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    const [first, second] = crashContents()
    const complete = new Set([formatPeerstoreFile(first), formatPeerstoreFile(second)])
    await savePeerstoreFile(path, first)

    for (let kill = 0; kill < KILLS; kill++) {
      // process.execPath is the Node 24 pnpm runs vitest with; it strips the types itself.
      const child = spawn(process.execPath, [SAVE_LOOP, path, String(SAVES_PER_CHILD)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      )
      await savesCompleted(child, 1)
      // While the child saves, a reader must only ever see a complete file, old or new.
      for (let read = 0; read < READS_PER_CHILD; read++) {
        expect(complete.has(await readFile(path, 'utf8'))).toBe(true)
      }
      // Kill at a different point of the save loop each time.
      await savesCompleted(child, kill * 7)
      child.kill('SIGKILL')
      expect(await exited).toBe('SIGKILL')

      const content = await readFile(path, 'utf8')
      expect(complete.has(content)).toBe(true)
      expect(parsePeerstoreFile(content).length).toBeGreaterThan(0)
    }
    // A crash may leave the temporary file; never anything else.
    expect((await readdir(folder)).filter((name) => name !== 'peerstore.tmp')).toEqual([
      'peerstore',
    ])
  }, 60_000)
})
