/**
 * allocation benchmark. `pnpm --filter @pinraft/allocation bench` (add `--quick` for a smoke run).
 *
 * - µs per allocation (1.x's allocate + the balanced allocator, `["tag:group", "freespace"]`,
 *   replication 2–3) with the metrics of 5 and of 50 peers;
 * - a lost peer holding 10,000 pins: five in-process monitors pinging every `pingInterval`, one
 *   goes silent; measured are the time until the leader's monitor raises the alert (target:
 *   repinning starts within 2 × monitor_ping_interval) and the re-allocation rate (target:
 *   ≥ 500 pins/s) through `reallocatePeer` committing into a simulated consensus: a real pinset
 *   state machine, each commit delayed by `commitLatency` (about what a 3-peer Raft commit costs
 *   on loopback), 32 commits in flight.
 */
import type { PinsetView } from '@pinraft/consensus'
import { silentLogger } from '@pinraft/raft-core'
import {
  createPinsetState,
  encodeOperation,
  type Pin,
  type PinInput,
  validatePin,
} from '@pinraft/state-pinset'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { allocate } from '../src/allocate.ts'
import { BalancedAllocator } from '../src/balanced-allocator.ts'
import type { Alert, Metric } from '../src/metric.ts'
import { Monitor } from '../src/monitor.ts'
import { reallocatePeer } from '../src/reallocate.ts'

const quick = process.argv.includes('--quick')
const allocations = quick ? 2000 : 20_000
const pinCount = quick ? 1000 : 10_000
const pingInterval = quick ? 200 : 1000
const commitLatency = 2

/** Deterministic, valid peer IDs (sha256 multihashes in base58btc, "Qm…"). */
const peerIds: string[] = []
for (let index = 0; index < 50; index++) {
  const digest = await sha256.digest(new TextEncoder().encode(`bench peer ${index}`))
  peerIds.push(base58btc.baseEncode(digest.bytes))
}
function peerName(index: number): string {
  return peerIds[index]!
}

function metric(
  peer: string,
  name: string,
  value: string,
  weight: number,
  partitionable: boolean,
): Metric {
  return {
    name,
    peer,
    value,
    expire: Date.now() + 3_600_000,
    valid: true,
    weight,
    partitionable,
    receivedAt: 0,
  }
}

function monitorFor(peers: readonly string[]): Monitor {
  const monitor = new Monitor({
    peerId: peers[0]!,
    informers: [],
    peers: async () => [...peers],
    transport: { send: async () => {} },
  })
  for (const [index, peer] of peers.entries()) {
    const free = 1_000_000_000 + index * 7_919_000
    monitor.receive(metric(peer, 'freespace', String(free), free, false))
    monitor.receive(metric(peer, 'tag:group', index % 2 === 0 ? 'eu' : 'us', 0, true))
  }
  return monitor
}

function allocationCost(peerCount: number): void {
  const peers = Array.from({ length: peerCount }, (_, index) => peerName(index))
  const monitor = monitorFor(peers)
  const allocator = new BalancedAllocator({ allocateBy: ['tag:group', 'freespace'] })
  // Warm-up, then the measured run.
  for (let i = 0; i < 200; i++)
    allocate(monitor, allocator, { current: [], replicationFactorMin: 2, replicationFactorMax: 3 })
  const began = performance.now()
  let placed = 0
  for (let i = 0; i < allocations; i++) {
    placed += allocate(monitor, allocator, {
      current: [],
      replicationFactorMin: 2,
      replicationFactorMax: 3,
    }).length
  }
  const microseconds = ((performance.now() - began) * 1000) / allocations
  if (placed !== allocations * 3) throw new Error('allocation placed fewer replicas than max')
  console.log(
    `allocation, ${peerCount} peers' metrics: ${microseconds.toFixed(1)} µs/pin (${allocations} pins, replication 2–3)`,
  )
}

/** A pinset committed into after `commitLatency` ms, as a Raft round trip would. */
function simulatedConsensus() {
  const pinset = createPinsetState()
  let index = 0
  const apply = (input: PinInput): Pin => {
    const pin = validatePin(input)
    pinset.apply({ index: ++index, term: 1, data: encodeOperation({ type: 'pin', pin }) })
    return pinset.get(pin.cid) ?? pin
  }
  const state: PinsetView = {
    get: (cid) => pinset.get(cid),
    has: (cid) => pinset.has(cid),
    count: () => pinset.count(),
    list: (options) => pinset.list(options),
  }
  return {
    apply,
    consensus: {
      state: () => state,
      logPin: async (input: PinInput) => {
        await new Promise((resolve) => setTimeout(resolve, commitLatency))
        return apply(input)
      },
    },
  }
}

async function lostPeer(): Promise<void> {
  const peers = Array.from({ length: 5 }, (_, index) => peerName(index))
  const lost = peers[4]!
  const silent = new Set<string>()
  const monitors = new Map<string, Monitor>()
  for (const peer of peers) {
    const free = 1_000_000_000 + peers.indexOf(peer) * 1_000_000
    monitors.set(
      peer,
      new Monitor(
        {
          peerId: peer,
          informers: [
            {
              names: ['freespace'],
              getMetrics: async () => [metric(peer, 'freespace', String(free), free, false)],
            },
          ],
          peers: async () => [...peers],
          transport: {
            send: async (to, metrics) => {
              if (silent.has(peer)) return
              for (const sent of metrics) monitors.get(to)?.receive({ ...sent, peer })
            },
          },
        },
        { pingInterval, checkInterval: pingInterval, failureThreshold: 3 },
      ),
    )
  }
  const { apply, consensus } = simulatedConsensus()
  for (let i = 0; i < pinCount; i++) {
    const cid = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`bench ${i}`)))
    apply({
      cid,
      replicationFactorMin: 2,
      replicationFactorMax: 2,
      allocations: [lost, peers[i % 4]!],
      timestamp: Date.now(),
    })
  }
  for (const monitor of monitors.values()) monitor.start()
  // Let every peer see a few regular pings, so the failure detector knows the rhythm.
  await new Promise((resolve) => setTimeout(resolve, pingInterval * 5))
  const leader = monitors.get(peers[0]!)!
  const alerted = new Promise<Alert>((resolve) => {
    leader.addEventListener('alert:raised', (event) => {
      const alert = (event as CustomEvent<Alert>).detail
      if (alert.metric.peer === lost && alert.metric.name === 'ping') resolve(alert)
    })
  })
  const deadline = setTimeout(() => {
    throw new Error('no alert within 10 × the ping interval')
  }, pingInterval * 10)
  // The peer dies just after its last ping (the worst case is a ping interval later).
  silent.add(lost)
  monitors.get(lost)!.stop()
  const died = performance.now()
  await alerted
  clearTimeout(deadline)
  const detection = performance.now() - died
  const began = performance.now()
  const result = await reallocatePeer(
    {
      consensus,
      metrics: leader,
      allocator: new BalancedAllocator({ allocateBy: ['freespace'] }),
      logger: silentLogger,
      now: () => Date.now(),
    },
    lost,
    { onlyBelowMin: true, concurrency: 32 },
  )
  const seconds = (performance.now() - began) / 1000
  for (const monitor of monitors.values()) monitor.stop()
  if (result.moved !== pinCount || result.failed !== 0)
    throw new Error(`moved ${result.moved} of ${pinCount}, ${result.failed} failed`)
  for await (const pin of consensus.state().list()) {
    if (pin.allocations.includes(lost)) throw new Error(`${pin.cid} still on the lost peer`)
  }
  console.log(
    `lost peer: alert ${detection.toFixed(0)} ms after its death (ping interval ${pingInterval} ms: ${(detection / pingInterval).toFixed(2)} ×)`,
  )
  console.log(
    `lost peer: ${pinCount} pins re-allocated in ${seconds.toFixed(2)} s = ${Math.round(pinCount / seconds)} pins/s (simulated commits of ${commitLatency} ms, 32 in flight)`,
  )
  console.log(
    `lost peer: all re-allocated ${(detection + seconds * 1000).toFixed(0)} ms after its death`,
  )
}

allocationCost(5)
allocationCost(50)
await lostPeer()
