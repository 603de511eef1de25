import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateIdentity } from '../src/config/identity.ts'
import { defaultServiceJson } from '../src/config/sections.ts'
import { resolveServiceConfiguration } from '../src/config/service-configuration.ts'
import { createServiceLibp2p, type ServiceLibp2p } from '../src/daemon/libp2p-node.ts'
import type { SecretMismatch } from '../src/daemon/secret-check.ts'

let root: string
const nodes: ServiceLibp2p[] = []

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pinraft-secret-'))
})

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()))
  await rm(root, { recursive: true, force: true })
})

async function node(
  name: string,
  secret: string,
  mismatches: SecretMismatch[],
): Promise<ServiceLibp2p> {
  const json = defaultServiceJson(secret)
  json.cluster.listen_multiaddress = ['/ip4/127.0.0.1/tcp/0']
  const configuration = resolveServiceConfiguration(
    json as unknown as Record<string, unknown>,
    join(root, name),
  )
  const created = await createServiceLibp2p(configuration, await generateIdentity(), {
    onSecretMismatch: (mismatch) => mismatches.push(mismatch),
  })
  nodes.push(created)
  return created
}

async function until(check: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 100 && !check(); attempt++)
    await new Promise((resolve) => setTimeout(resolve, 50))
  return check()
}

describe('a peer with another cluster secret', () => {
  it('is recognised by the peer it connects to', async () => {
    const listenerMismatches: SecretMismatch[] = []
    const dialerMismatches: SecretMismatch[] = []
    const listener = await node('a', randomBytes(32).toString('hex'), listenerMismatches)
    const dialer = await node('b', randomBytes(32).toString('hex'), dialerMismatches)
    await expect(
      dialer.dial(listener.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow()
    expect(await until(() => listenerMismatches.length > 0)).toBe(true)
    expect(listenerMismatches[0]!.direction).toBe('inbound')
    expect(dialerMismatches).toEqual([])
  })

  it('is not reported when the secrets match', async () => {
    const secret = randomBytes(32).toString('hex')
    const mismatches: SecretMismatch[] = []
    const listener = await node('a', secret, mismatches)
    const dialer = await node('b', secret, mismatches)
    // Several connections: the check must hold for every way a connection starts.
    for (let count = 0; count < 5; count++) {
      const connection = await dialer.dial(listener.getMultiaddrs()[0]!, {
        signal: AbortSignal.timeout(5000),
        force: true,
      })
      expect(connection.status).toBe('open')
      const stream = await connection.newStream('/ipfs/id/1.0.0', {
        signal: AbortSignal.timeout(5000),
      })
      await stream.close()
      await connection.close()
    }
    expect(mismatches).toEqual([])
  })
})
