import { lpStream } from '@libp2p/utils'
import { encodeOperation, validatePin } from '@pinraft/state-pinset'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSENSUS_PIPELINE_PROTOCOL, CONSENSUS_RPC_PROTOCOL } from '../src/index.ts'
import { decodeRequest, decodeResponse, encodeRequest } from '../src/rpc/rpc-protocol.ts'
import { cidFor, TestCluster, type TestPeer } from './support/peers.ts'

describe('consensus RPC under random input', () => {
  it('decodes any bytes to a request or an RpcError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc.json().map((text) => new TextEncoder().encode(text)),
          fc
            .record({
              kind: fc.constantFrom('log', 'add-peer', 'rm-peer', 'other', 7),
              operation: fc.oneof(fc.string(), fc.base64String(), fc.integer()),
              peerId: fc.oneof(fc.string(), fc.constant(null)),
            })
            .map((value) => new TextEncoder().encode(JSON.stringify(value))),
        ),
        (bytes) => {
          try {
            decodeRequest(bytes)
          } catch (error) {
            expect((error as Error).name).toBe('RpcError')
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  describe('against a running member', () => {
    let cluster: TestCluster
    let member: TestPeer
    let other: TestPeer

    beforeAll(async () => {
      cluster = new TestCluster()
      const [first, second] = await cluster.bootstrap(2)
      if (first === undefined || second === undefined) throw new Error('no peers')
      member = first
      other = second
    })

    afterAll(async () => {
      await cluster.stopAll()
    })

    it('answers random frames from a member with an error and keeps applying pins', async () => {
      // Sent by another member, so the frames reach the decoder, not just the membership check.
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
          const stream = await other.libp2p.dialProtocol(
            member.libp2p.peerId,
            CONSENSUS_RPC_PROTOCOL,
          )
          const framed = lpStream(stream)
          await framed.write(bytes)
          const response = decodeResponse((await framed.read()).subarray())
          expect(response.ok).toBe(false)
        }),
        { numRuns: 40 },
      )
      await member.consensus.logPin({ cid: await cidFor('after the fuzzing') })
      expect(member.consensus.state().count()).toBe(1)
    })

    it('answers every frame of a pipelined stream in order, bad ones with an error, and keeps the stream', async () => {
      const leader = await cluster.leader()
      const sender = leader === member ? other : member
      const stream = await sender.libp2p.dialProtocol(
        leader.libp2p.peerId,
        CONSENSUS_PIPELINE_PROTOCOL,
      )
      const framed = lpStream(stream)
      const pin = (text: string) =>
        cidFor(text).then((cid) =>
          encodeRequest({
            kind: 'log',
            operation: encodeOperation({
              type: 'pin',
              pin: validatePin({ cid, timestamp: 1 }),
              requestId: crypto.randomUUID(),
            }),
          }),
        )
      const garbage = new TextEncoder().encode('{"kind":"nonsense"}')
      const frames = [
        garbage,
        await pin('pipelined 1'),
        new Uint8Array([0xff]),
        await pin('pipelined 2'),
      ]
      // All written before any answer is read: the leader runs them together.
      await Promise.all(frames.map((frame) => framed.write(frame)))
      const responses = []
      for (let i = 0; i < frames.length; i++) {
        responses.push(decodeResponse((await framed.read()).subarray()))
      }
      expect(responses.map((response) => response.ok)).toEqual([false, true, false, true])
      const [, first, , second] = responses
      if (first?.ok !== true || second?.ok !== true) throw new Error('unreachable')
      expect(second.index).toBeGreaterThanOrEqual(first.index)
      expect(responses[0]).toMatchObject({ errorName: 'RpcError' })
      expect(leader.consensus.state().has(await cidFor('pipelined 2'))).toBe(true)
      await stream.close()
    })
  })
})
