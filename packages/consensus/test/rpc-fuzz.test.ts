import { lpStream } from '@libp2p/utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSENSUS_RPC_PROTOCOL } from '../src/index.ts'
import { decodeRequest, decodeResponse } from '../src/rpc/rpc-protocol.ts'
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
  })
})
