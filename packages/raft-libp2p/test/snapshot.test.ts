import type { SnapshotMessage } from '@pinraft/raft-core'
import { afterEach, describe, expect, test } from 'vitest'
import { encodeFrames, FrameDecoder } from '../src/codec/framing.ts'
import { toWireMessage } from '../src/codec/message-codec.ts'
import { SNAPSHOT_PROTOCOL } from '../src/index.ts'
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

async function pair(options: Parameters<typeof createNode>[0] = {}): Promise<{
  a: RaftLibp2p
  b: RaftLibp2p
  hb: RecordingHandler
}> {
  const a = await createNode(options)
  const b = await createNode(options)
  nodes.push(a, b)
  await introduce([a, b])
  a.services.raft.setHandler(new RecordingHandler())
  const hb = new RecordingHandler()
  b.services.raft.setHandler(hb)
  return { a, b, hb }
}

function snapshotMessage(a: RaftLibp2p, b: RaftLibp2p, index = 100): SnapshotMessage {
  return {
    type: 'snapshot',
    from: idOf(a),
    to: idOf(b),
    term: 3,
    snapshot: {
      index,
      term: 2,
      configuration: { voters: [idOf(a), idOf(b)], nonVoters: [], staging: [] },
    },
  }
}

function pattern(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let index = 0; index < size; index++) {
    bytes[index] = (index * 31 + seed) % 251
  }
  return bytes
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) {
    yield bytes.subarray(offset, offset + size)
  }
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

describe('snapshot transfer', () => {
  test('a multi-megabyte snapshot arrives whole and in order, in chunks, with its message', async () => {
    const { a, b, hb } = await pair({ raft: { snapshotChunkSize: 64 * 1024 } })
    const data = pattern(3 * 1024 * 1024 + 17)
    const sizes: number[] = []
    hb.onSnapshotHook = async (message, stream) => {
      const received: Uint8Array[] = []
      for await (const chunk of stream) {
        sizes.push(chunk.byteLength)
        received.push(chunk)
      }
      hb.snapshots.push({ message, data: new Uint8Array(Buffer.concat(received)) })
    }
    await a.services.raft.sendSnapshot(snapshotMessage(a, b), chunks(data, 1_000_000))
    expect(hb.snapshots).toHaveLength(1)
    expect(hb.snapshots[0]?.message).toEqual(snapshotMessage(a, b))
    expect(same(hb.snapshots[0]?.data, data)).toBe(true)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64 * 1024)
  })

  test('an empty snapshot is delivered', async () => {
    const { a, b, hb } = await pair({ transport: 'memory' })
    await a.services.raft.sendSnapshot(snapshotMessage(a, b), chunks(new Uint8Array(0), 1))
    expect(hb.snapshots.map((snapshot) => snapshot.data.byteLength)).toEqual([0])
  })

  test('a receiver that fails to store the snapshot makes sendSnapshot reject with its reason', async () => {
    const { a, b, hb } = await pair({ transport: 'memory' })
    hb.onSnapshotHook = async (_message, stream) => {
      for await (const _ of stream) {
        throw new Error('disk full')
      }
    }
    const sending = a.services.raft.sendSnapshot(
      snapshotMessage(a, b),
      chunks(pattern(500_000), 100_000),
    )
    await expect(sending).rejects.toMatchObject({ name: 'SnapshotRejectedError' })
    await expect(sending).rejects.toThrow(/disk full/)
  })

  test('a sender whose data fails mid-way rejects, the receiver sees the failure, and a retry succeeds', async () => {
    const { a, b, hb } = await pair({ transport: 'memory', raft: { snapshotChunkSize: 16 * 1024 } })
    const receiverErrors: string[] = []
    hb.onSnapshotHook = async (message, stream) => {
      const received: Uint8Array[] = []
      try {
        for await (const chunk of stream) {
          received.push(chunk)
        }
      } catch (err) {
        receiverErrors.push((err as Error).name)
        throw err
      }
      hb.snapshots.push({ message, data: new Uint8Array(Buffer.concat(received)) })
    }
    const data = pattern(200_000, 5)
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 100_000)
      throw new Error('snapshot store read failed')
    }
    const first = a.services.raft.sendSnapshot(snapshotMessage(a, b), failing())
    await expect(first).rejects.toMatchObject({ name: 'SnapshotTransferError' })
    await expect(first).rejects.toThrow(/snapshot store read failed/)
    await eventually(
      () => receiverErrors.length === 1,
      5_000,
      'receiver notices the broken transfer',
    )
    expect(hb.snapshots).toEqual([])

    await a.services.raft.sendSnapshot(snapshotMessage(a, b), chunks(data, 50_000))
    expect(hb.snapshots).toHaveLength(1)
    expect(same(hb.snapshots[0]?.data, data)).toBe(true)
  })

  test('an aborted transfer rejects with the abort reason and leaves nothing behind', async () => {
    const { a, b, hb } = await pair({ transport: 'memory', raft: { snapshotChunkSize: 16 * 1024 } })
    const controller = new AbortController()
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield pattern(50_000)
      controller.abort(new Error('leader stepped down'))
      yield pattern(50_000)
    }
    await expect(
      a.services.raft.sendSnapshot(snapshotMessage(a, b), slow(), { signal: controller.signal }),
    ).rejects.toThrow(/leader stepped down/)
    expect(hb.snapshots).toEqual([])
  })

  test('a truncated transfer (no end frame) is never delivered as complete', async () => {
    const { a, b, hb } = await pair({ transport: 'memory' })
    const failures: string[] = []
    hb.onSnapshotHook = async (_message, stream) => {
      try {
        for await (const _ of stream) {
          // consume
        }
      } catch (err) {
        failures.push((err as Error).message)
        throw err
      }
      hb.snapshots.push({ message: _message, data: new Uint8Array() })
    }
    const raw = await a.dialProtocol(b.peerId, SNAPSHOT_PROTOCOL)
    const header = pb.SnapshotFrame.encode({
      kind: 1,
      message: toWireMessage(snapshotMessage(a, b)),
    })
    const chunk = pb.SnapshotFrame.encode({ kind: 2, data: new Uint8Array(1000) })
    raw.send(encodeFrames([header, chunk]))
    await raw.close()
    await eventually(() => failures.length === 1, 5_000, 'receiver failure')
    expect(failures[0]).toMatch(/without its end frame/)
    expect(hb.snapshots).toEqual([])
  })

  test('an end frame whose size disagrees with the data is refused', async () => {
    const { a, b, hb } = await pair({ transport: 'memory' })
    const raw = await a.dialProtocol(b.peerId, SNAPSHOT_PROTOCOL)
    const header = pb.SnapshotFrame.encode({
      kind: 1,
      message: toWireMessage(snapshotMessage(a, b)),
    })
    raw.send(
      encodeFrames([
        header,
        pb.SnapshotFrame.encode({ kind: 2, data: new Uint8Array(1000) }),
        pb.SnapshotFrame.encode({ kind: 3, size: 2000 }),
      ]),
    )
    const decoder = new FrameDecoder(1024 * 1024)
    const answers: Uint8Array[] = []
    raw.addEventListener('message', (event) => answers.push(...decoder.push(event.data)))
    await eventually(() => answers.length > 0, 5_000, 'an answer')
    expect(hb.snapshots).toEqual([])
    const answer = pb.SnapshotResult.decode(answers[0]!)
    expect(answer.ok).toBe(false)
    expect(answer.error).toMatch(/reports a snapshot of 2000 bytes but 1000 arrived/)
  })
})
