/**
 * The pinset benchmark: apply rate, heap bytes per pin, snapshot write and restore time and size
 * at 1,000,000 pins (override with `--pins N`). Run with `pnpm --filter @pinraft/state-pinset bench`
 * (which passes --expose-gc); `--all` adds batched and minimal pins. Pins are realistic for IPFS Cluster: CIDv1 (raw, sha2-256), three
 * allocations among ten peers, replication factors 2/3 and a timestamp.
 */

import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import type { PinOperation, PinsetState } from '../src/index.ts'
import { createPinsetState, encodeOperation } from '../src/index.ts'

const pinsArgument = process.argv.indexOf('--pins')
const pinCount = pinsArgument > 0 ? Number(process.argv[pinsArgument + 1]) : 1_000_000
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc (pnpm bench does)')

function collect(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

/** A deterministic pseudo-random digest per index (xorshift), so runs are comparable. */
function digestOf(index: number): Uint8Array {
  const bytes = new Uint8Array(32)
  let x = (index + 1) * 2654435761
  for (let i = 0; i < 32; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    bytes[i] = x & 0xff
    bytes[i + 1] = (x >>> 8) & 0xff
    bytes[i + 2] = (x >>> 16) & 0xff
    bytes[i + 3] = (x >>> 24) & 0xff
  }
  bytes[0] = index & 0xff
  bytes[1] = (index >>> 8) & 0xff
  bytes[2] = (index >>> 16) & 0xff
  return bytes
}

const peers = Array.from({ length: 10 }, (_, index) => {
  const key = new Uint8Array(36)
  key.set([8, 1, 18, 32])
  key.set(digestOf(1_000_000_000 + index), 4)
  return base58btc.baseEncode(createDigest(0, key).bytes)
})

function cidOf(index: number): CID {
  return CID.createV1(0x55, createDigest(0x12, digestOf(index)))
}

function operationOf(index: number, realistic: boolean): PinOperation {
  if (!realistic) return { type: 'pin', pin: { cid: cidOf(index) } }
  return {
    type: 'pin',
    pin: {
      cid: cidOf(index),
      allocations: [peers[index % 10]!, peers[(index + 3) % 10]!, peers[(index + 7) % 10]!],
      replicationFactorMin: 2,
      replicationFactorMax: 3,
      timestamp: 1_700_000_000_000 + index * 1000,
    },
  }
}

interface Measure {
  applySeconds: number
  heapPerPin: number
  snapshotSeconds: number
  snapshotBytes: number
  restoreSeconds: number
  restoredHeapPerPin: number
}

async function measure(realistic: boolean, batchSize: number): Promise<Measure> {
  const baseline = collect()
  const state: PinsetState = createPinsetState()
  let applyTime = 0
  let index = 0
  const prepared = 10_000
  for (let start = 0; start < pinCount; start += prepared) {
    const entries: Uint8Array[] = []
    for (let i = start; i < Math.min(pinCount, start + prepared); i += batchSize) {
      const stop = Math.min(pinCount, start + prepared, i + batchSize)
      const operations: PinOperation[] = []
      for (let j = i; j < stop; j++) operations.push(operationOf(j, realistic))
      entries.push(
        encodeOperation(batchSize === 1 ? operations[0]! : { type: 'batch', operations }),
      )
    }
    const began = performance.now()
    for (const data of entries) state.apply({ index: ++index, term: 1, data })
    applyTime += performance.now() - began
  }
  if (state.count() !== pinCount) throw new Error(`expected ${pinCount} pins, got ${state.count()}`)
  const heapPerPin = (collect() - baseline) / pinCount

  let began = performance.now()
  const chunks: Uint8Array[] = []
  let snapshotBytes = 0
  for await (const chunk of state.snapshot()) {
    chunks.push(chunk)
    snapshotBytes += chunk.length
  }
  const snapshotSeconds = (performance.now() - began) / 1000

  const restored = createPinsetState()
  began = performance.now()
  await restored.restore(
    (async function* () {
      yield* chunks
    })(),
  )
  const restoreSeconds = (performance.now() - began) / 1000
  if (restored.count() !== pinCount) throw new Error('restore lost pins')
  chunks.length = 0
  const afterRestore = collect()
  // Both states are alive here; subtract the first one's share to get the restored one's.
  const restoredHeapPerPin = (afterRestore - baseline) / pinCount - heapPerPin
  void state.count()
  return {
    applySeconds: applyTime / 1000,
    heapPerPin,
    snapshotSeconds,
    snapshotBytes,
    restoreSeconds,
    restoredHeapPerPin,
  }
}

function report(label: string, result: Measure): void {
  console.log(`\n${label}`)
  console.log(
    `  apply:      ${Math.round(pinCount / result.applySeconds).toLocaleString('en')} pins/s (${result.applySeconds.toFixed(2)} s)`,
  )
  console.log(
    `  heap:       ${result.heapPerPin.toFixed(1)} bytes/pin after apply, ${result.restoredHeapPerPin.toFixed(1)} after restore`,
  )
  console.log(
    `  snapshot:   ${result.snapshotSeconds.toFixed(2)} s, ${(result.snapshotBytes / 1e6).toFixed(1)} MB (${(result.snapshotBytes / pinCount).toFixed(1)} bytes/pin)`,
  )
  console.log(`  restore:    ${result.restoreSeconds.toFixed(2)} s`)
}

const started = performance.now()
console.log(`pinset benchmark: ${pinCount.toLocaleString('en')} pins, node ${process.version}`)
report(
  'cluster-like pins (3 allocations, replication 2/3, timestamp), one pin per entry',
  await measure(true, 1),
)
if (process.argv.includes('--all')) {
  report('cluster-like pins, batches of 100 pins per entry', await measure(true, 100))
  report('minimal pins (CID only), one pin per entry', await measure(false, 1))
}
console.log(
  `\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s (entries are encoded outside the timed apply)`,
)
