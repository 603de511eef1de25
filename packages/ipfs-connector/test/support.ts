import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { resolveEmbeddedConfiguration } from '../src/configuration/embedded-configuration.ts'
import {
  createEmbeddedConnector,
  type EmbeddedIpfsConnector,
} from '../src/embedded/embedded-connector.ts'

export interface TestNode {
  readonly connector: EmbeddedIpfsConnector
  readonly folder: string
  cleanup(): Promise<void>
}

/** An embedded node on 127.0.0.1 (port 0) with its repository in a fresh temporary folder. */
export async function startTestNode(pinTimeout = '2m0s'): Promise<TestNode> {
  const folder = await mkdtemp(join(tmpdir(), 'pinraft-ipfs-'))
  const connector = createEmbeddedConnector({
    configuration: resolveEmbeddedConfiguration({
      listen_multiaddress: '/ip4/127.0.0.1/tcp/0',
      pin_timeout: pinTimeout,
    }),
    folder: join(folder, 'ipfs'),
    privateKey: await generateKeyPair('Ed25519'),
  })
  await connector.start()
  return {
    connector,
    folder,
    cleanup: async () => {
      await connector.stop()
      await rm(folder, { recursive: true, force: true })
    },
  }
}

export async function* chunksOf(bytes: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size)
  }
}

export async function collect<T, R>(
  generator: AsyncGenerator<T, R>,
): Promise<{ items: T[]; result: R }> {
  const items: T[] = []
  while (true) {
    const next = await generator.next()
    if (next.done === true) return { items, result: next.value }
    items.push(next.value)
  }
}
