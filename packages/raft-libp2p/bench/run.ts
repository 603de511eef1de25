/**
 * Benchmarks the Raft transport against a bare libp2p stream, measured in the same run between
 * two nodes on loopback TCP (noise + yamux):
 *
 * - RTT of one small message: bare long-lived stream (echo), a new stream per request, and a
 *   Raft heartbeat answered by a heartbeat-response through the transport.
 * - Throughput of 1 KiB payloads: a bare stream with one payload per write and 64 per write,
 *   and Raft appends pipelined like a leader does (each append answered, a bounded window in
 *   flight), with one 1 KiB entry per append and with 64.
 *
 * Usage: pnpm run bench [-- --quick]
 */

import { cpus, loadavg } from 'node:os'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Stream, StreamMessageEvent } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import type { Message, NodeId, SnapshotMessage, TransportHandler } from '@pinraft/raft-core'
import { createLibp2p } from 'libp2p'
import { encodeFrames } from '../src/codec/framing.ts'
import { type RaftTransport, raftTransport } from '../src/index.ts'

const quick = process.argv.includes('--quick')
/** Measurements alternate between bare and Raft in this many rounds, so both see the same load. */
const ROUNDS = quick ? 2 : 5
const RTT_PER_ROUND = quick ? 200 : 600
const THROUGHPUT_BYTES = (quick ? 8 : 16) * 1024 * 1024
const PAYLOAD = 1024
const ECHO = '/pinraft-bench/echo/1.0.0'
const SINK = '/pinraft-bench/sink/1.0.0'

type Node = Libp2p<{ raft: RaftTransport }>

async function createNode(): Promise<Node> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { raft: raftTransport() },
  })
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

interface Latency {
  p50: number
  p99: number
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50) * 1000, p99: percentile(sorted, 99) * 1000 }
}

/** Echo server: every byte back, as it comes. */
function serveEcho(node: Node): Promise<void> {
  return node.handle(ECHO, (stream) => {
    stream.addEventListener('message', (event: StreamMessageEvent) => {
      stream.send(event.data)
    })
    stream.addEventListener('end', () => {
      void stream.close()
    })
  })
}

/** Sink: takes everything, and answers one byte once the writer closed its end. */
function serveSink(node: Node): Promise<void> {
  return node.handle(SINK, (stream) => {
    stream.addEventListener('message', () => {})
    stream.addEventListener('end', () => {
      stream.send(new Uint8Array([1]))
      void stream.close()
    })
  })
}

function onceMessage(stream: Stream): Promise<void> {
  return new Promise((resolve) => {
    stream.addEventListener('message', () => resolve(), { once: true })
  })
}

async function bareRtt(a: Node, b: Node): Promise<number[]> {
  const stream = await a.dialProtocol(b.peerId, ECHO)
  const payload = new Uint8Array(64)
  const samples: number[] = []
  for (let round = 0; round < RTT_PER_ROUND + 100; round++) {
    const start = performance.now()
    const answered = onceMessage(stream)
    stream.send(payload)
    await answered
    if (round >= 100) {
      samples.push(performance.now() - start)
    }
  }
  await stream.close()
  return samples
}

async function newStreamRtt(a: Node, b: Node): Promise<number[]> {
  const payload = new Uint8Array(64)
  const samples: number[] = []
  const rounds = RTT_PER_ROUND / 4
  for (let round = 0; round < rounds + 20; round++) {
    const start = performance.now()
    const stream = await a.dialProtocol(b.peerId, ECHO)
    const answered = onceMessage(stream)
    stream.send(payload)
    await answered
    if (round >= 20) {
      samples.push(performance.now() - start)
    }
    await stream.close()
  }
  return samples
}

/** A handler that forwards messages to a callback and ignores the rest. */
function handler(onMessage: (message: Message) => void): TransportHandler {
  return {
    onMessage,
    onUnreachable(peer: NodeId) {
      throw new Error(`${peer} unreachable during the benchmark`)
    },
    async onSnapshot(_message: SnapshotMessage, _data: AsyncIterable<Uint8Array>) {},
  }
}

async function raftRtt(a: Node, b: Node): Promise<number[]> {
  const idA = a.peerId.toString()
  const idB = b.peerId.toString()
  let answered: (() => void) | undefined
  a.services.raft.setHandler(handler(() => answered?.()))
  b.services.raft.setHandler(
    handler((message) => {
      b.services.raft.send([
        { type: 'heartbeat-response', from: idB, to: idA, term: message.term, context: '' },
      ])
    }),
  )
  const samples: number[] = []
  for (let round = 0; round < RTT_PER_ROUND + 100; round++) {
    const start = performance.now()
    await new Promise<void>((resolve) => {
      answered = resolve
      a.services.raft.send([
        { type: 'heartbeat', from: idA, to: idB, term: 1, commit: round, context: '' },
      ])
    })
    if (round >= 100) {
      samples.push(performance.now() - start)
    }
  }
  return samples
}

/** MB/s of 1 KiB payloads over a bare long-lived stream, `perWrite` framed payloads a write. */
async function bareThroughput(a: Node, b: Node, perWrite: number): Promise<number> {
  const stream = await a.dialProtocol(b.peerId, SINK)
  const count = THROUGHPUT_BYTES / PAYLOAD
  const batch = encodeFrames(
    Array.from({ length: perWrite }, () => new Uint8Array(PAYLOAD).fill(7)),
  )
  const done = onceMessage(stream)
  const start = performance.now()
  for (let sent = 0; sent < count; sent += perWrite) {
    if (!stream.send(batch)) {
      await stream.onDrain()
    }
  }
  await stream.close()
  await done
  const seconds = (performance.now() - start) / 1000
  return THROUGHPUT_BYTES / seconds / 1e6
}

/**
 * MB/s of entry payload through Raft appends, pipelined as a leader does: every append is
 * answered with an append-response, and at most `window` appends are in flight.
 */
async function raftThroughput(
  a: Node,
  b: Node,
  entriesPerAppend: number,
  window: number,
): Promise<number> {
  const idA = a.peerId.toString()
  const idB = b.peerId.toString()
  const appends = THROUGHPUT_BYTES / PAYLOAD / entriesPerAppend
  const data = new Uint8Array(PAYLOAD).fill(7)
  let sent = 0
  let acknowledged = 0
  let finished: (() => void) | undefined
  const makeAppend = (index: number): Message => ({
    type: 'append',
    from: idA,
    to: idB,
    term: 1,
    index: index * entriesPerAppend,
    logTerm: 1,
    commit: 0,
    entries: Array.from({ length: entriesPerAppend }, (_, offset) => ({
      index: index * entriesPerAppend + offset + 1,
      term: 1,
      type: 'normal' as const,
      data,
    })),
  })
  const fill = () => {
    const batch: Message[] = []
    while (sent < appends && sent - acknowledged < window) {
      batch.push(makeAppend(sent++))
    }
    if (batch.length > 0) {
      a.services.raft.send(batch)
    }
  }
  b.services.raft.setHandler(
    handler((message) => {
      if (message.type === 'append') {
        b.services.raft.send([
          {
            type: 'append-response',
            from: idB,
            to: idA,
            term: 1,
            index: message.index + message.entries.length,
            reject: false,
            rejectHint: 0,
            logTerm: 1,
          },
        ])
      }
    }),
  )
  a.services.raft.setHandler(
    handler(() => {
      acknowledged++
      if (acknowledged === appends) {
        finished?.()
      } else {
        fill()
      }
    }),
  )
  const start = performance.now()
  await new Promise<void>((resolve) => {
    finished = resolve
    fill()
  })
  const seconds = (performance.now() - start) / 1000
  return THROUGHPUT_BYTES / seconds / 1e6
}

const format = (value: number) => value.toFixed(value < 10 ? 2 : 1)

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function main(): Promise<void> {
  const a = await createNode()
  const b = await createNode()
  await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
  await b.peerStore.merge(a.peerId, { multiaddrs: a.getMultiaddrs() })
  await serveEcho(b)
  await serveSink(b)
  await a.dial(b.peerId)
  // Warm the JIT and open the Raft streams both ways before measuring.
  await raftRtt(a, b)
  await bareRtt(a, b)

  console.log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load ${loadavg()
      .map((load) => load.toFixed(1))
      .join(' ')}`,
  )
  console.log(
    `${ROUNDS} alternating rounds: ${RTT_PER_ROUND} RTT samples each; ${THROUGHPUT_BYTES / 1024 / 1024} MiB per throughput run (median of rounds)\n`,
  )

  const bare: number[] = []
  const perStream: number[] = []
  const raft: number[] = []
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const bareRound = await bareRtt(a, b)
    const raftRound = await raftRtt(a, b)
    perStream.push(...(await newStreamRtt(a, b)))
    bare.push(...bareRound)
    raft.push(...raftRound)
    ratios.push(latency(raftRound).p50 / latency(bareRound).p50)
  }
  const rows: Array<[string, Latency]> = [
    ['bare long-lived stream (echo)', latency(bare)],
    ['bare, new stream per request', latency(perStream)],
    ['Raft heartbeat -> heartbeat-response', latency(raft)],
  ]
  console.log('RTT of one small message (µs)              p50      p99')
  for (const [label, value] of rows) {
    console.log(
      `  ${label.padEnd(38)} ${format(value.p50).padStart(7)}  ${format(value.p99).padStart(7)}`,
    )
  }
  console.log(
    `  Raft / bare p50: ${(latency(raft).p50 / latency(bare).p50).toFixed(2)} overall, ${median(ratios).toFixed(2)} median of rounds (target <= 1.3)\n`,
  )

  const runs: Record<string, number[]> = {}
  const record = (label: string, value: number) => {
    runs[label] ??= []
    runs[label].push(value)
  }
  for (let round = 0; round < ROUNDS; round++) {
    record('bare stream, 1 per write', await bareThroughput(a, b, 1))
    record('bare stream, 64 per write', await bareThroughput(a, b, 64))
    // raft-core's defaults: 64 entries and 1 MiB per append, 256 appends in flight.
    record('Raft appends of 1 entry, 256 in flight', await raftThroughput(a, b, 1, 256))
    record('Raft appends of 64 entries, 256 in flight', await raftThroughput(a, b, 64, 256))
  }
  console.log('Throughput of 1 KiB payloads (MB/s)        median   (runs)')
  for (const [label, values] of Object.entries(runs)) {
    console.log(
      `  ${label.padEnd(40)} ${format(median(values)).padStart(6)}   (${values.map(format).join(', ')})`,
    )
  }
  console.log('  target for Raft appends: >= 100')

  await a.stop()
  await b.stop()
}

await main()
