import type { Stream } from '@libp2p/interface'
import type { Message } from '@pinraft/raft-core'
import { afterEach, describe, expect, test } from 'vitest'
import { encodeFrames } from '../src/codec/framing.ts'
import { encodeMessage } from '../src/codec/message-codec.ts'
import {
  type MessageDroppedDetail,
  preSharedKeyFromSecret,
  RAFT_PROTOCOL,
  type StreamRejectedDetail,
} from '../src/index.ts'
import * as pb from '../src/pb/raft.gen.ts'
import {
  createNode,
  eventually,
  idOf,
  introduce,
  type RaftLibp2p,
  RecordingHandler,
  stopAll,
} from './fixtures/nodes.ts'

let nodes: RaftLibp2p[] = []

afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

async function start(
  count: number,
  options: Parameters<typeof createNode>[0] = {},
): Promise<RaftLibp2p[]> {
  const created: RaftLibp2p[] = []
  for (let index = 0; index < count; index++) {
    created.push(await createNode(options))
  }
  nodes.push(...created)
  return created
}

function heartbeat(from: RaftLibp2p, to: RaftLibp2p, commit: number): Message {
  return { type: 'heartbeat', from: idOf(from), to: idOf(to), term: 1, commit, context: '' }
}

function attach(node: RaftLibp2p): RecordingHandler {
  const handler = new RecordingHandler()
  node.services.raft.setHandler(handler)
  return handler
}

function rejections(node: RaftLibp2p): StreamRejectedDetail[] {
  const seen: StreamRejectedDetail[] = []
  node.services.raft.addEventListener('stream:rejected', (event) => seen.push(event.detail))
  return seen
}

/** Waits until the stream is closed or reset by the other end, bounded by `timeout` ms. */
async function closedByPeer(stream: Stream, timeout = 5_000): Promise<void> {
  await eventually(() => stream.status !== 'open', timeout, 'stream closed by the peer')
}

describe('private network', () => {
  const secret = new Uint8Array(32).fill(7)
  const otherSecret = new Uint8Array(32).fill(9)

  test('peers holding the same 32-byte key exchange Raft messages', async () => {
    const [a, b] = await start(2, { psk: preSharedKeyFromSecret(secret) })
    await introduce([a!, b!])
    const hb = attach(b!)
    a!.services.raft.send([heartbeat(a!, b!, 1)])
    await hb.until(() => hb.messages.length === 1)
  })

  test('a peer with another key, or with none, cannot connect at all', async () => {
    // Without a key the handshake stalls rather than fails: short dial timeouts keep this quick.
    const raft = { dialTimeout: 1_000 }
    const [a] = await start(1, { psk: preSharedKeyFromSecret(secret), raft })
    const [wrongKey] = await start(1, { psk: preSharedKeyFromSecret(otherSecret), raft })
    const [noKey] = await start(1, { raft })
    await introduce([a!, wrongKey!, noKey!])
    const ha = attach(a!)
    for (const outsider of [wrongKey!, noKey!]) {
      await expect(
        outsider.dial(a!.peerId, { signal: AbortSignal.timeout(1_000) }),
      ).rejects.toThrow()
      await expect(
        a!.dial(outsider.peerId, { signal: AbortSignal.timeout(1_000) }),
      ).rejects.toThrow()
      const handler = attach(outsider)
      outsider.services.raft.send([heartbeat(outsider, a!, 1)])
      await handler.until(() => handler.unreachable.includes(idOf(a!)), 5_000, 'unreachable')
    }
    expect(ha.messages).toEqual([])
    expect(a!.getConnections()).toEqual([])
  }, 20_000)

  test('a secret that is not 32 bytes is refused with a clear error', () => {
    expect(() => preSharedKeyFromSecret(new Uint8Array(16))).toThrow(/32 bytes/)
    expect(() => preSharedKeyFromSecret('zz')).toThrow(/hexadecimal/)
    expect(new TextDecoder().decode(preSharedKeyFromSecret('ab'.repeat(32)))).toBe(
      `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}`,
    )
  })
})

describe('membership filter', () => {
  test('messages from a peer outside the configuration are dropped, members still get through', async () => {
    const [a, b, outsider] = await start(3, { transport: 'memory' })
    await introduce([a!, b!, outsider!])
    const hb = attach(b!)
    b!.services.raft.setAllowedPeers([idOf(a!), idOf(b!)])
    const dropped: MessageDroppedDetail[] = []
    b!.services.raft.addEventListener('message:dropped', (event) => dropped.push(event.detail))
    outsider!.services.raft.send([heartbeat(outsider!, b!, 1), heartbeat(outsider!, b!, 2)])
    await eventually(() => dropped.length > 0, 5_000, 'drop event')
    a!.services.raft.send([heartbeat(a!, b!, 3)])
    await hb.until(() => hb.messages.length === 1)
    expect(hb.messages.map((message) => message.from)).toEqual([idOf(a!)])
    expect(dropped).toContainEqual({
      peer: idOf(outsider!),
      direction: 'inbound',
      reason: 'not-allowed',
      count: 2,
    })
  })

  test('a peer added to the allowed set drives the node from then on', async () => {
    const [a, b] = await start(2, { transport: 'memory', raft: { allowedPeers: [] } })
    await introduce([a!, b!])
    const hb = attach(b!)
    const dropped: MessageDroppedDetail[] = []
    b!.services.raft.addEventListener('message:dropped', (event) => dropped.push(event.detail))
    a!.services.raft.send([heartbeat(a!, b!, 1)])
    await eventually(() => dropped.length === 1, 5_000, 'first message dropped')
    expect(b!.services.raft.isAllowed(idOf(a!))).toBe(false)
    b!.services.raft.setAllowedPeers([idOf(a!)])
    a!.services.raft.send([heartbeat(a!, b!, 2)])
    await hb.until(() => hb.messages.length === 1)
    expect(hb.messages[0]).toMatchObject({ type: 'heartbeat', commit: 2 })
    b!.services.raft.setAllowedPeers(null)
    expect(b!.services.raft.isAllowed('anyone')).toBe(true)
  })

  test('a snapshot from a peer outside the configuration is refused and reported to the sender', async () => {
    const [a, b] = await start(2, { transport: 'memory' })
    await introduce([a!, b!])
    const hb = attach(b!)
    b!.services.raft.setAllowedPeers([idOf(b!)])
    const sending = a!.services.raft.sendSnapshot(
      {
        type: 'snapshot',
        from: idOf(a!),
        to: idOf(b!),
        term: 1,
        snapshot: {
          index: 10,
          term: 1,
          configuration: { voters: [idOf(a!)], nonVoters: [], staging: [] },
        },
      },
      (async function* () {
        yield new Uint8Array(1024)
      })(),
    )
    await expect(sending).rejects.toMatchObject({ name: 'SnapshotRejectedError' })
    await expect(sending).rejects.toThrow(/not a member/)
    expect(hb.snapshots).toEqual([])
  })
})

describe('bad frames on a live node', () => {
  async function rawStream(from: RaftLibp2p, to: RaftLibp2p): Promise<Stream> {
    await introduce([from, to])
    return from.dialProtocol(to.peerId, RAFT_PROTOCOL)
  }

  async function stillServes(
    a: RaftLibp2p,
    b: RaftLibp2p,
    handler: RecordingHandler,
  ): Promise<void> {
    const before = handler.messages.length
    a.services.raft.send([heartbeat(a, b, 42)])
    await handler.until(() => handler.messages.length === before + 1, 5_000, 'b still serves a')
  }

  test('a frame that is not a Raft message closes that stream only, with the reason', async () => {
    const [a, b, attacker] = await start(3)
    const hb = attach(b!)
    const rejected = rejections(b!)
    const stream = await rawStream(attacker!, b!)
    stream.send(encodeFrames([new Uint8Array([0x0a, 0xff, 0xff, 0xff])]))
    await closedByPeer(stream)
    expect(rejected).toHaveLength(1)
    expect(rejected[0]).toMatchObject({ peer: idOf(attacker!), protocol: RAFT_PROTOCOL })
    expect(rejected[0]?.error.name).toBe('MalformedFrameError')
    await introduce([a!, b!])
    await stillServes(a!, b!, hb)
  })

  test('a message of an unknown type closes the stream; frames before it were delivered', async () => {
    const [a, b, peer] = await start(3)
    const hb = attach(b!)
    const rejected = rejections(b!)
    const stream = await rawStream(peer!, b!)
    const good = encodeMessage(heartbeat(peer!, b!, 1))
    const unknown = pb.RaftMessage.encode({ type: 200, term: 1 })
    stream.send(encodeFrames([good, unknown, good]))
    await closedByPeer(stream)
    expect(hb.messages).toHaveLength(1)
    expect(rejected[0]?.error.name).toBe('MalformedFrameError')
    expect(rejected[0]?.error.message).toMatch(/unknown message type code 200/)
    await introduce([a!, b!])
    await stillServes(a!, b!, hb)
  })

  test('an oversized length prefix closes the stream before the body is sent', async () => {
    const [a, b, peer] = await start(3, { raft: { maxMessageSize: 64 * 1024 } })
    const hb = attach(b!)
    const rejected = rejections(b!)
    const stream = await rawStream(peer!, b!)
    // Only the varint prefix announcing 64 KiB + 1: the receiver must not wait for the body.
    stream.send(encodeFrames([new Uint8Array(64 * 1024 + 1)]).subarray(0, 3))
    await closedByPeer(stream)
    expect(rejected[0]?.error.name).toBe('FrameTooLargeError')
    await introduce([a!, b!])
    await stillServes(a!, b!, hb)
  })

  test('a snapshot message on the message protocol is refused', async () => {
    const [b, peer] = await start(2)
    attach(b!)
    const rejected = rejections(b!)
    const stream = await rawStream(peer!, b!)
    stream.send(
      encodeFrames([
        encodeMessage({
          type: 'snapshot',
          from: idOf(peer!),
          to: idOf(b!),
          term: 1,
          snapshot: {
            index: 1,
            term: 1,
            configuration: { voters: [], nonVoters: [], staging: [] },
          },
        }),
      ]),
    )
    await closedByPeer(stream)
    expect(rejected[0]?.error.name).toBe('MalformedFrameError')
  })
})
