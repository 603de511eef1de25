import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { silentLogger, systemClock } from '@pinraft/raft-core'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { createTagsInformer } from '../src/informers.ts'
import type { Metric } from '../src/metric.ts'
import { Monitor } from '../src/monitor.ts'
import {
  createLibp2pMetricsTransport,
  handleMonitorProtocol,
  MONITOR_PROTOCOL,
} from '../src/monitor-protocol.ts'

const hosts: Libp2p[] = []

afterEach(async () => {
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

async function introduce(a: Libp2p, b: Libp2p): Promise<void> {
  await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
  await b.peerStore.merge(a.peerId, { multiaddrs: a.getMultiaddrs() })
}

/** Resolves once `received` holds `count` metrics (bounded: 200 rounds of 10 ms). */
async function waitFor(received: Metric[], count: number): Promise<void> {
  for (let round = 0; round < 200 && received.length < count; round++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Writes one raw frame on the monitor protocol and waits for the stream to end. */
async function sendRaw(from: Libp2p, to: Libp2p, bytes: Uint8Array): Promise<void> {
  const stream = await from.dialProtocol(to.peerId, MONITOR_PROTOCOL)
  const framed = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
  await framed.write(bytes).catch(() => {})
  await stream.close().catch(() => {})
}

describe('the monitor protocol over libp2p', () => {
  it('delivers one peer’s published metrics and ping to another, signed by the connection', async () => {
    const [sender, receiver] = [await host(), await host()]
    await introduce(sender, receiver)
    const received: Metric[] = []
    await handleMonitorProtocol(receiver, (metric) => received.push(metric), {
      now: () => Date.now(),
      logger: silentLogger,
    })
    const senderId = sender.peerId.toString()
    const monitor = new Monitor({
      peerId: senderId,
      informers: [
        createTagsInformer(
          { peer: senderId, clock: systemClock, metricTtl: 30_000 },
          { group: 'eu' },
        ),
      ],
      peers: async () => [senderId, receiver.peerId.toString()],
      transport: createLibp2pMetricsTransport(sender),
    })
    await monitor.publish()
    await waitFor(received, 2)
    expect(received.map((metric) => metric.name).sort()).toEqual(['ping', 'tag:group'])
    expect(received.every((metric) => metric.peer === senderId)).toBe(true)
    expect(received.find((metric) => metric.name === 'tag:group')?.value).toBe('eu')
    expect(received.every((metric) => metric.receivedAt > 0)).toBe(true)
  })

  it('refuses an invalid frame, an oversized one and a metric that breaks the rules', async () => {
    const [sender, receiver] = [await host(), await host()]
    await introduce(sender, receiver)
    const received: Metric[] = []
    await handleMonitorProtocol(receiver, (metric) => received.push(metric), {
      now: () => Date.now(),
      logger: silentLogger,
    })
    const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
    const valid = {
      name: 'freespace',
      value: '10',
      expire: Date.now() + 60_000,
      valid: true,
      weight: 10,
      partitionable: false,
    }
    await sendRaw(sender, receiver, new TextEncoder().encode('{not json'))
    await sendRaw(sender, receiver, encode({ metrics: 'everything' }))
    await sendRaw(sender, receiver, encode({ metrics: [{ ...valid, weight: 'heavy' }] }))
    // A frame above the 256 KiB limit: the reader refuses it before parsing.
    await sendRaw(sender, receiver, encode({ metrics: [{ ...valid, value: 'x'.repeat(300_000) }] }))
    // 257 metrics: more than one publication may carry.
    await sendRaw(sender, receiver, encode({ metrics: Array.from({ length: 257 }, () => valid) }))
    // One bad metric spoils the frame: nothing of it is kept.
    await sendRaw(sender, receiver, encode({ metrics: [valid, { ...valid, name: '' }] }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(received).toEqual([])
    // The handler still serves after all that.
    await sendRaw(sender, receiver, encode({ metrics: [valid] }))
    await waitFor(received, 1)
    expect(received.map((metric) => [metric.name, metric.peer])).toEqual([
      ['freespace', sender.peerId.toString()],
    ])
  })
})
