import type { CreateLibp2pOptions, HeliaWithLibp2p } from '@helia/libp2p'
import type { ServiceMap } from '@libp2p/interface'
import type { Helia, HeliaInit } from 'helia'

/** The two functions the embedded node is built from (besides `withBitswap`). */
export interface HeliaBuilders {
  createHeliaLight(init?: HeliaInit): Helia
  withLibp2pLight<H extends Helia, M extends ServiceMap>(
    helia: H,
    options: CreateLibp2pOptions<M>,
  ): H & HeliaWithLibp2p<M>
}

type Importer = (specifier: string) => Promise<Record<string, unknown>>

const nativeImport: Importer = (specifier) => import(specifier)

/**
 * `helia/light` and `@helia/libp2p/light` when this package is installed with pinraft's patches
 * of them (pnpm-workspace.yaml): the packages' roots also load createHelia's and libp2pDefaults'
 * modules (WebRTC, UPnP, autoTLS, the DHT...), about 900 that this node never runs and a second
 * of every start. Without the patches (a project that installs this package on its own), the
 * roots, which hold the same functions.
 */
export async function loadHeliaBuilders(load: Importer = nativeImport): Promise<HeliaBuilders> {
  const [helia, libp2p] = await Promise.all([
    lightOrRoot(load, 'helia'),
    lightOrRoot(load, '@helia/libp2p'),
  ])
  return {
    createHeliaLight: helia.createHeliaLight as HeliaBuilders['createHeliaLight'],
    withLibp2pLight: libp2p.withLibp2pLight as HeliaBuilders['withLibp2pLight'],
  }
}

async function lightOrRoot(load: Importer, name: string): Promise<Record<string, unknown>> {
  try {
    return await load(`${name}/light`)
  } catch (error) {
    // Only a package without the subpath falls back; any other failure is the module's own.
    if ((error as { code?: unknown } | undefined)?.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      throw error
    }
    return await load(name)
  }
}
