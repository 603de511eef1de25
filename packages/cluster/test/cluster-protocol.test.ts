import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CLUSTER_PROTOCOL,
  requestPinInfo,
  requestPinInfoStream,
} from '../src/rpc/cluster-protocol.ts'
import { contentCid, TestCluster } from './support.ts'

let cluster: TestCluster | undefined
const hosts: Libp2p[] = []

afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
  for (const host of hosts.splice(0)) await host.stop()
})

async function host(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  hosts.push(node)
  return node
}

async function rawCall(from: Libp2p, to: Libp2p, request: unknown): Promise<unknown> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0]!, CLUSTER_PROTOCOL)
  const framed = lpStream(stream)
  await framed.write(new TextEncoder().encode(JSON.stringify(request)))
  const answer = JSON.parse(new TextDecoder().decode((await framed.read()).subarray()))
  await stream.close().catch(() => {})
  return answer
}

describe('the cluster protocol', () => {
  it('answers a malformed request with an error frame that says what was wrong', async () => {
    cluster = new TestCluster()
    const [peer] = await cluster.start(1)
    const client = await host()
    expect(await rawCall(client, peer!.libp2p, { kind: 'delete-everything' })).toEqual({
      ok: false,
      errorName: 'TypeError',
      message: 'unknown request "delete-everything"',
    })
    expect(await rawCall(client, peer!.libp2p, { kind: 'status', cid: 'not a cid' })).toMatchObject(
      {
        ok: false,
        errorName: 'InvalidCidError',
      },
    )
    expect(
      await rawCall(client, peer!.libp2p, { kind: 'status-all', filter: ['sleeping'] }),
    ).toMatchObject({ ok: false, message: 'status-all needs a filter: null or a list of statuses' })
  })

  it('refuses a peer’s malformed answer instead of trusting it', async () => {
    const liar = await host()
    const asker = await host()
    await asker.peerStore.merge(liar.peerId, { multiaddrs: liar.getMultiaddrs() })
    await liar.handle(CLUSTER_PROTOCOL, async (stream) => {
      const framed = lpStream(stream)
      const request = JSON.parse(new TextDecoder().decode((await framed.read()).subarray()))
      const info = { cid: 'bafy-nope', status: 'pinned' }
      const frame = request.kind === 'status' ? { ok: true, info } : { infos: [info] }
      await framed.write(new TextEncoder().encode(JSON.stringify(frame)))
      await stream.close().catch(() => {})
    })
    const cid = await contentCid('asked')
    await expect(
      requestPinInfo(asker, liar.peerId.toString(), 'status', cid, {
        signal: AbortSignal.timeout(5000),
      }),
    ).rejects.toThrow(/^bad /)
    const stream = requestPinInfoStream(
      asker,
      liar.peerId.toString(),
      { kind: 'status-all', filter: null },
      { frameTimeout: 5000 },
    )
    await expect(stream.next()).rejects.toThrow(/^bad /)
  })

  it('takes the answering peer from the connection, not from the message', async () => {
    cluster = new TestCluster()
    const [first, second] = await cluster.start(2)
    const cid = await contentCid('who answers')
    const info = await requestPinInfo(
      first!.libp2p,
      second!.libp2p.peerId.toString(),
      'status',
      cid,
      {
        signal: AbortSignal.timeout(5000),
      },
    )
    expect(info.peer).toBe(second!.libp2p.peerId.toString())
    expect(info.status).toBe('unpinned')
  })
})
