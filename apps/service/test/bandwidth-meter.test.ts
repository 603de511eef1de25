import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { BandwidthMeter } from '../src/daemon/bandwidth-meter.ts'

const ECHO = '/pinraft-test/echo/1.0.0'
const hosts: Libp2p[] = []

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop()
})

async function host(meter?: BandwidthMeter): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(meter === undefined ? {} : { metrics: () => meter }),
  })
  hosts.push(node)
  return node
}

describe('the bandwidth meter of GET /health/bandwidth', () => {
  it('counts the bytes each protocol sends and receives on the host it meters, with rates', async () => {
    const meter = new BandwidthMeter()
    const [client, server] = [await host(meter), await host()]
    await server.handle(ECHO, async (stream) => {
      const framed = lpStream(stream)
      const message = await framed.read()
      await framed.write(message.subarray())
      await stream.close()
    })
    const stream = await client.dialProtocol(server.getMultiaddrs(), ECHO)
    const framed = lpStream(stream)
    await framed.write(new Uint8Array(10_000).fill(7))
    const echoed = await framed.read()
    expect(echoed.byteLength).toBe(10_000)
    await stream.close()

    const echo = meter.byProtocol()[ECHO]
    // The frame and its length prefix, each way.
    expect(echo?.totalOut).toBeGreaterThanOrEqual(10_000)
    expect(echo?.totalOut).toBeLessThan(10_100)
    expect(echo?.totalIn).toBeGreaterThanOrEqual(10_000)
    expect(echo?.totalIn).toBeLessThan(10_100)
    expect(echo?.rateOut).toBe(0)
    meter.sample(1_000)
    expect(meter.byProtocol()[ECHO]?.rateOut).toBeGreaterThan(4_000)
    meter.sample(1_000)
    // Nothing more was sent: the rate decays.
    expect(meter.byProtocol()[ECHO]?.rateOut).toBeLessThan(echo!.totalOut / 2 + 1)
  })
})
