import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { backupAndClean } from '../src/index.ts'

const folders: string[] = []
const mounts: string[] = []

afterEach(async () => {
  for (const mount of mounts.splice(0)) {
    try {
      execFileSync('umount', [mount])
    } catch {
      // Already gone.
    }
  }
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true })
})

async function dataFolder(content: string): Promise<{ root: string; raft: string }> {
  const root = await mkdtemp(join(tmpdir(), 'pinraft-backups-'))
  folders.push(root)
  const raft = join(root, 'raft')
  await mkdir(raft)
  await writeFile(join(raft, 'state'), content)
  return { root, raft }
}

function canMount(): boolean {
  return process.getuid?.() === 0
}

describe('backupAndClean', () => {
  it('rotates backups, newest as .old.0, and keeps backups_rotate of them', async () => {
    const { root, raft } = await dataFolder('first')
    await backupAndClean(raft, 2)
    await mkdir(raft)
    await writeFile(join(raft, 'state'), 'second')
    await backupAndClean(raft, 2)
    await mkdir(raft)
    await writeFile(join(raft, 'state'), 'third')
    expect(await backupAndClean(raft, 2)).toBe(join(root, 'raft.old.0'))
    expect((await readdir(root)).sort()).toEqual(['raft.old.0', 'raft.old.1'])
    expect(await readFile(join(root, 'raft.old.0', 'state'), 'utf8')).toBe('third')
    expect(await readFile(join(root, 'raft.old.1', 'state'), 'utf8')).toBe('second')
  })

  it.skipIf(!canMount())(
    'backs up a data folder that is a mount point by copying, and empties it in place',
    async () => {
      const { root, raft } = await dataFolder('unused')
      await rm(join(raft, 'state'))
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', raft])
      } catch {
        return // not permitted here (a container without mount rights)
      }
      mounts.push(raft)
      await writeFile(join(raft, 'state'), 'on its own volume')
      const backup = await backupAndClean(raft, 3)
      expect(backup).toBe(join(root, 'raft.old.0'))
      expect(await readFile(join(root, 'raft.old.0', 'state'), 'utf8')).toBe('on its own volume')
      expect(await readdir(raft)).toEqual([])
    },
  )
})
