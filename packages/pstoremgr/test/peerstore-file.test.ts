import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPeerstoreFile, savePeerstoreFile } from '../src/index.ts'
import { temporaryFolder } from './fixtures.ts'

const A = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const B = 'QmXZrtE5jQwXNqCJMfHUTQkvhQ4ZAnqMnmzFMJfLewuabc'
const PEER_A = `/ip4/192.0.2.1/tcp/9096/p2p/${A}`
const PEER_B = `/dns4/b.example.com/tcp/9096/p2p/${B}`

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('peerstore file', () => {
  it('loads a missing file as no peers, as on a first start', async () => {
    const folder = await temporaryFolder()
    expect(await loadPeerstoreFile(join(folder, 'peerstore'))).toEqual([])
  })

  it('saves and loads the same addresses', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    await savePeerstoreFile(path, [PEER_A, PEER_B])
    expect(await readFile(path, 'utf8')).toBe(`${PEER_A}\n${PEER_B}\n`)
    const entries = await loadPeerstoreFile(path)
    expect(entries.map((entry) => entry.peer.multiaddr.toString())).toEqual([PEER_A, PEER_B])
  })

  it('replaces the whole file, leaving no temporary file behind', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    await savePeerstoreFile(path, [PEER_A, PEER_B])
    await savePeerstoreFile(path, [PEER_B])
    expect(await readFile(path, 'utf8')).toBe(`${PEER_B}\n`)
    expect(await readdir(folder)).toEqual(['peerstore'])
  })

  it('overwrites a temporary file a crash left behind', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    await writeFile(`${path}.tmp`, '/ip4/1.2.3.4/tcp/1/p2p/trunc')
    await savePeerstoreFile(path, [PEER_A])
    expect(await readFile(path, 'utf8')).toBe(`${PEER_A}\n`)
    expect(await readdir(folder)).toEqual(['peerstore'])
  })

  it('runs concurrent saves of one file one after the other, the last one winning', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    const saves = Array.from({ length: 20 }, (_, index) =>
      savePeerstoreFile(path, index % 2 === 0 ? [PEER_A] : [PEER_A, PEER_B]),
    )
    await Promise.all(saves)
    expect(await readFile(path, 'utf8')).toBe(`${PEER_A}\n${PEER_B}\n`)
    expect(await readdir(folder)).toEqual(['peerstore'])
  })

  it('rejects an invalid address before touching the file', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    await savePeerstoreFile(path, [PEER_A])
    const error = await caught(savePeerstoreFile(path, [PEER_B, '/ip4/192.0.2.3/tcp/1']))
    expect(error.name).toBe('InvalidMultiaddrError')
    expect(await readFile(path, 'utf8')).toBe(`${PEER_A}\n`)
  })

  it('reports a folder that does not exist as a PeerstoreFileError', async () => {
    const path = join(await temporaryFolder(), 'missing', 'peerstore')
    const error = await caught(savePeerstoreFile(path, [PEER_A]))
    expect(error.name).toBe('PeerstoreFileError')
    expect(error.message).toContain(path)
    expect(error.message).toContain('ENOENT')
  })

  it('reports a rename that fails, keeping what was there', async () => {
    const folder = await temporaryFolder()
    const path = join(folder, 'peerstore')
    // A non-empty folder where the file should be: the rename over it must fail.
    await mkdir(join(path, 'inside'), { recursive: true })
    const error = await caught(savePeerstoreFile(path, [PEER_A]))
    expect(error.name).toBe('PeerstoreFileError')
    expect(error.message).toContain('previous file is unchanged')
    expect((await readdir(folder)).sort()).toEqual(['peerstore'])
    expect(await readdir(path)).toEqual(['inside'])
  })

  it('reports a file that cannot be read as a PeerstoreFileError', async () => {
    const folder = await temporaryFolder()
    const error = await caught(loadPeerstoreFile(folder))
    expect(error.name).toBe('PeerstoreFileError')
    expect(error.message).toContain(folder)
  })

  it('fails to load a file with a bad line, naming the file and line', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    await writeFile(path, `${PEER_A}\n# comment\n/ip4/192.0.2.9/tcp/1\n`)
    const error = await caught(loadPeerstoreFile(path))
    expect(error.name).toBe('InvalidMultiaddrError')
    expect(error.message.startsWith(`${path}:3: `)).toBe(true)
  })

  it('does not replace the file when aborted before the save starts', async () => {
    const path = join(await temporaryFolder(), 'peerstore')
    await savePeerstoreFile(path, [PEER_A])
    const controller = new AbortController()
    controller.abort()
    const error = await caught(savePeerstoreFile(path, [PEER_B], { signal: controller.signal }))
    expect(error.name).toBe('AbortError')
    expect(await readFile(path, 'utf8')).toBe(`${PEER_A}\n`)
  })
})
