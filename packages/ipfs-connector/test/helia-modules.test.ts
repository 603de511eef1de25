import { describe, expect, it } from 'vitest'
import { loadHeliaBuilders } from '../src/embedded/helia-modules.ts'

const createHeliaLight = () => 'helia'
const withLibp2pLight = () => 'libp2p'

describe("Helia's entry points for the embedded node", () => {
  it('takes the light entry points when the packages have them', async () => {
    const asked: string[] = []
    const builders = await loadHeliaBuilders(async (specifier) => {
      asked.push(specifier)
      return { createHeliaLight, withLibp2pLight }
    })
    expect(asked.sort()).toEqual(['@helia/libp2p/light', 'helia/light'])
    expect(builders.createHeliaLight).toBe(createHeliaLight)
    expect(builders.withLibp2pLight).toBe(withLibp2pLight)
  })

  it("falls back to the packages' roots when they are installed without pinraft's patch", async () => {
    const asked: string[] = []
    const builders = await loadHeliaBuilders(async (specifier) => {
      asked.push(specifier)
      if (specifier.endsWith('/light')) {
        throw Object.assign(new Error(`no "./light" in ${specifier}`), {
          code: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
        })
      }
      return { createHeliaLight, withLibp2pLight }
    })
    expect(asked.filter((specifier) => !specifier.endsWith('/light')).sort()).toEqual([
      '@helia/libp2p',
      'helia',
    ])
    expect(builders.createHeliaLight).toBe(createHeliaLight)
  })

  it('does not hide any other failure to load a light entry point', async () => {
    const broken = new SyntaxError('Unexpected token')
    await expect(
      loadHeliaBuilders(async (specifier) => {
        if (specifier === 'helia/light') throw broken
        return { createHeliaLight, withLibp2pLight }
      }),
    ).rejects.toBe(broken)
  })

  it('loads both from this workspace, patched', async () => {
    const builders = await loadHeliaBuilders()
    expect(typeof builders.createHeliaLight).toBe('function')
    expect(typeof builders.withLibp2pLight).toBe('function')
  })
})
