import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { CONSENSUS_RPC_PROTOCOL } from '../src/index.ts'
import { decodeRequest, decodeResponse, encodeRequest } from '../src/rpc/rpc-protocol.ts'
import { cidFor, TestCluster } from './support/peers.ts'

let cluster: TestCluster

afterEach(async () => {
  await cluster?.stopAll()
})

describe('consensus RPC', () => {
  it('round-trips requests and rejects malformed ones with a clear error', () => {
    const operation = new Uint8Array([1, 2, 3])
    expect(decodeRequest(encodeRequest({ kind: 'log', operation }))).toEqual({
      kind: 'log',
      operation,
    })
    expect(decodeRequest(encodeRequest({ kind: 'rm-peer', peerId: 'x' }))).toEqual({
      kind: 'rm-peer',
      peerId: 'x',
    })
    // A join that says it has no state carries the flag; the old encoding is unchanged.
    expect(
      decodeRequest(encodeRequest({ kind: 'add-peer', peerId: 'x', freshState: true })),
    ).toEqual({ kind: 'add-peer', peerId: 'x', freshState: true })
    expect(new TextDecoder().decode(encodeRequest({ kind: 'add-peer', peerId: 'x' }))).toBe(
      '{"kind":"add-peer","peerId":"x"}',
    )
    const bad = [
      new Uint8Array([0xff, 0xfe]),
      new TextEncoder().encode('[]'),
      new TextEncoder().encode('{"kind":"drop-table"}'),
      new TextEncoder().encode('{"kind":"add-peer","peerId":""}'),
      new TextEncoder().encode('{"kind":"log","operation":""}'),
      new TextEncoder().encode('{"kind":"add-peer","peerId":"x","freshState":"yes"}'),
    ]
    for (const bytes of bad) {
      expect(() => decodeRequest(bytes)).toThrow(/malformed consensus RPC request/)
    }
    expect(() => decodeResponse(new TextEncoder().encode('{"ok":true,"index":-1}'))).toThrow(
      /index/,
    )
  })

  it('refuses operations from a peer outside the peerset, and keeps serving', async () => {
    cluster = new TestCluster()
    const [member] = await cluster.bootstrap(1)
    if (member === undefined) throw new Error('no member')
    const outsider = await cluster.node(
      await import('@libp2p/crypto/keys').then((k) => k.generateKeyPair('Ed25519')),
    )
    await outsider.peerStore.merge(member.libp2p.peerId, {
      multiaddrs: member.libp2p.getMultiaddrs(),
    })
    const stream = await outsider.dialProtocol(member.libp2p.peerId, CONSENSUS_RPC_PROTOCOL)
    const framed = lpStream(stream)
    await framed.write(encodeRequest({ kind: 'rm-peer', peerId: member.id }))
    const response = decodeResponse((await framed.read()).subarray())
    expect(response).toMatchObject({ ok: false, errorName: 'RpcError' })
    expect(response.ok === false && response.message).toMatch(/not a member/)
    // Garbage on a new stream is refused the same way, and the node keeps working.
    const garbage = lpStream(
      await outsider.dialProtocol(member.libp2p.peerId, CONSENSUS_RPC_PROTOCOL),
    )
    await garbage.write(new Uint8Array([1, 2, 3, 4]))
    expect(decodeResponse((await garbage.read()).subarray())).toMatchObject({
      ok: false,
      errorName: 'RpcError',
    })
    await outsider.stop()
    await member.consensus.logPin({ cid: await cidFor('still serving') })
    expect(await member.consensus.peers()).toEqual([member.id])
  })
})
